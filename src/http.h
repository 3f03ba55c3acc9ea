/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_HTTP_H
#define TEMPUS_HTTP_H

#include <stdint.h>

#include "acl.h"
#include "addr.h"
#include "ctl_proto.h"

/* A deliberately minimal HTTP/1.1 server on the event loop for one job:
 * answering GET /metrics. Non-blocking sockets registered with sched, a
 * bounded number of connections, a bounded request size, a deadline per
 * connection, one response per connection (Connection: close). Anything
 * else gets 400/404/405 and is closed. */

/* Fill out with the body for GET /metrics (text/plain; version=0.0.4). */
typedef void (*http_metrics_fn)(void *arg, struct ctl_buf *out);

struct http_server;

/* Listen on addr:port (TCP); only clients allowed by acl are served (others
 * are closed at once). acl is borrowed, not copied: it must live until
 * replaced by http_set_acl or the server is destroyed (NULL denies all).
 * Returns NULL (logged) if the socket cannot be set up. */
struct http_server *http_create(const struct netaddr *addr, uint16_t port,
                                const struct acl *acl, http_metrics_fn fn, void *arg);
void http_destroy(struct http_server *h);
/* Seconds a connection may take from accept to its last byte (5 by
 * default; tests shorten it), for connections accepted from now on. */
void http_set_deadline(struct http_server *h, double seconds);
double http_get_deadline(const struct http_server *h);
/* Replace the allow list (reload). */
void http_set_acl(struct http_server *h, const struct acl *acl);
/* The port actually bound (the kernel's pick when created with port 0). */
uint16_t http_port(const struct http_server *h);

/* The request parser on its own, for tests and fuzzing: given the bytes
 * received so far, returns 0 if more are needed, or the HTTP status to
 * answer (200 for GET /metrics, 400, 404, 405, 414/431 for oversize). */
int http_parse_request(const char *buf, size_t len);

#endif
