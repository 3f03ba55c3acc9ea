/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_NOTIFY_H
#define TEMPUS_NOTIFY_H

/* systemd readiness notification (the sd_notify protocol): send msg
 * ("READY=1", "RELOADING=1", "STOPPING=1") as one datagram to the Unix
 * socket named by $NOTIFY_SOCKET ('@' = abstract namespace). Does nothing
 * when the variable is unset; failures are logged at debug level only. */
void notify_send(const char *msg);

#endif
