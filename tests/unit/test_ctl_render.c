/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"
#include "ctl_render.h"

#define MAXREC 16

/* Records as tempusctl sees them: written by the record writer, then
 * parsed back (in place, in the writer's buffer). */
struct fixture {
    struct ctl_buf wire;
    struct ctl_record recs[MAXREC];
    size_t n;
    struct ctl_buf out;
};

static void fx_begin(struct fixture *fx)
{
    ctl_buf_init(&fx->wire, CTL_MAX_REPLY);
    ctl_buf_init(&fx->out, CTL_MAX_REPLY);
    fx->n = 0;
}

static void fx_parse(struct fixture *fx)
{
    assert_false(fx->wire.overflow);
    int n = ctl_records_parse(fx->wire.data, fx->wire.len, fx->recs, MAXREC);
    assert_true(n >= 0);
    fx->n = (size_t)n;
}

static void fx_end(struct fixture *fx)
{
    ctl_buf_free(&fx->wire);
    ctl_buf_free(&fx->out);
}

/* The tracking record's timesource (NULL: none, as an older daemon). */
static const char *fx_timesource;

static void add_tracking(struct ctl_buf *b, int synced, int local, int stratum, double offset)
{
    ctl_rec_begin(b, "tracking");
    ctl_rec_int(b, "synced", synced);
    ctl_rec_int(b, "local", local);
    if (fx_timesource)
        ctl_rec_str(b, "timesource", fx_timesource);
    ctl_rec_str(b, "outcome", synced ? "ok" : "no majority");
    ctl_rec_str(b, "ref_name", synced ? "ntp1.example.net" : local ? "local" : "");
    ctl_rec_int(b, "refid", 0xc0000201);
    ctl_rec_str(b, "refid_str", synced ? "192.0.2.1" : local ? "LOCL" : "");
    ctl_rec_int(b, "stratum", stratum);
    ctl_rec_int(b, "leap", synced || local ? 0 : 3);
    ctl_rec_double(b, "offset", offset);
    ctl_rec_double(b, "rms_offset", 34e-6);
    ctl_rec_double(b, "freq_ppm", -12.3456);
    ctl_rec_double(b, "freq_err_ppm", 0.012);
    ctl_rec_double(b, "system_offset", -3e-6);
    ctl_rec_double(b, "root_delay", 1.234e-3);
    ctl_rec_double(b, "root_dispersion", 45e-6);
    ctl_rec_double(b, "ref_time", 1712345678.25);
    ctl_rec_double(b, "since_update", 12.5);
    ctl_rec_double(b, "update_interval", 64);
    ctl_rec_int(b, "ntruechimers", 3);
    ctl_rec_int(b, "nsources", 3);
    ctl_rec_int(b, "steps", 1);
    ctl_rec_double(b, "last_step", 0.5);
    ctl_rec_str(b, "clock", "system");
    ctl_rec_end(b);
}

static void add_source(struct ctl_buf *b, const char *name, const char *state, int reach,
                       int nsamples, double offset)
{
    ctl_rec_begin(b, "source");
    ctl_rec_int(b, "index", 0);
    ctl_rec_str(b, "name", name);
    ctl_rec_str(b, "state", state);
    ctl_rec_int(b, "stratum", nsamples ? 2 : 0);
    ctl_rec_int(b, "poll", 6);
    ctl_rec_int(b, "reach", reach);
    ctl_rec_int(b, "reachable", reach != 0);
    ctl_rec_double(b, "age", nsamples ? 12.7 : -1);
    ctl_rec_double(b, "last_rx", nsamples ? 3.2 : -1); /* LastRx: not the pick's age */
    ctl_rec_double(b, "offset", offset);
    ctl_rec_double(b, "delay", 1.234e-3);
    ctl_rec_double(b, "jitter", 45e-6);
    ctl_rec_int(b, "nsamples", nsamples);
    ctl_rec_end(b);
}

static void test_units(void **state)
{
    static const struct {
        double x;
        const char *offset, *interval;
    } cases[] = {
        {12e-6, "+12us", "12us"},
        {-1.234e-3, "-1.234ms", "-1.234ms"},
        {0.5, "+0.5s", "0.5s"},
        {0, "+0s", "0s"},
        {5e-10, "+0.5ns", "0.5ns"},
        {123e-9, "+123ns", "123ns"},
        {999.96e-6, "+1ms", "1ms"},
        {0.09999, "+99.99ms", "99.99ms"},
        {0.1, "+0.1s", "0.1s"},
        {-0.0456789, "-45.68ms", "-45.68ms"},
        {1.5, "+1.5s", "1.5s"},
        {123.456, "+123.5s", "123.5s"},
        {12345.6, "+12346s", "12346s"},
        {1e6, "+1.000e+06s", "1.000e+06s"},
        {NAN, "-", "-"},
        {INFINITY, "-", "-"},
    };
    char buf[32];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(ctl_render_offset(cases[i].x, buf, sizeof(buf)), cases[i].offset);
        assert_string_equal(ctl_render_interval(cases[i].x, buf, sizeof(buf)), cases[i].interval);
    }
    /* a short buffer is cut, not overrun */
    char tiny[4];
    assert_string_equal(ctl_render_offset(-1.234e-3, tiny, sizeof(tiny)), "-1.");

    static const struct {
        double s;
        const char *text;
    } ages[] = {{-1, "-"},       {NAN, "-"},     {0, "0s"},      {45.7, "45s"},
                {119.9, "119s"}, {120, "2m"},    {7199, "119m"}, {7200, "2h"},
                {172799, "47h"}, {172800, "2d"}, {1e7, "115d"},  {1e300, "-"}};
    for (size_t i = 0; i < sizeof(ages) / sizeof(ages[0]); i++)
        assert_string_equal(ctl_render_age(ages[i].s, buf, sizeof(buf)), ages[i].text);
}

static void test_tracking_text(void **state)
{
    struct fixture fx;
    (void)state;

    fx_begin(&fx);
    ctl_rec_begin(&fx.wire, "other");
    ctl_rec_end(&fx.wire);
    add_tracking(&fx.wire, 1, 0, 2, 12e-6);
    fx_parse(&fx);
    ctl_render_tracking(fx.recs, fx.n, &fx.out);
    assert_string_equal(fx.out.data, "Status          : synchronised\n"
                                     "Reference ID    : 192.0.2.1 (ntp1.example.net)\n"
                                     "Stratum         : 2\n"
                                     "Reference time  : 2024-04-05 19:34:38.250 UTC (12s ago)\n"
                                     "System time     : 3us behind NTP time\n"
                                     "Last offset     : -12us\n" /* local behind: - */
                                     "RMS offset      : 34us\n"
                                     "Frequency       : -12.346 ppm\n"
                                     "Frequency error : 0.012 ppm\n"
                                     "Root delay      : 1.234ms\n"
                                     "Root dispersion : 45us\n"
                                     "Update interval : 64s\n"
                                     "Leap status     : normal\n"
                                     "Sources         : 3 in agreement of 3\n"
                                     "Clock steps     : 1 (last +0.5s)\n"
                                     "Clock           : system\n");
    fx_end(&fx);

    /* unsynchronised, never updated */
    fx_begin(&fx);
    add_tracking(&fx.wire, 0, 0, 16, 0);
    fx_parse(&fx);
    ctl_render_tracking(fx.recs, fx.n, &fx.out);
    assert_non_null(strstr(fx.out.data, "Status          : not synchronised (no majority)\n"
                                        "Reference ID    : -\n"
                                        "Stratum         : 16\n"));
    assert_non_null(strstr(fx.out.data, "Leap status     : not synchronised\n"));
    fx_end(&fx);

    /* no tracking record: nothing */
    fx_begin(&fx);
    ctl_render_tracking(fx.recs, 0, &fx.out);
    assert_int_equal(fx.out.len, 0);
    fx_end(&fx);
}

static void test_sources_text(void **state)
{
    struct fixture fx;
    (void)state;

    fx_begin(&fx);
    add_tracking(&fx.wire, 1, 0, 2, 12e-6);
    add_source(&fx.wire, "ntp1.example.net", "selected", 0377, 8, 12e-6);
    add_source(&fx.wire, "192.0.2.7", "falseticker", 0376, 8, -0.25);
    add_source(&fx.wire, "ntp3.example.net", "unreachable", 0, 0, 0);
    fx_parse(&fx);
    ctl_render_sources(fx.recs, fx.n, 0, &fx.out);
    const char *table = "S Name/IP address  St Poll Reach LastRx    Offset     Delay    Jitter\n"
                        "=====================================================================\n"
                        "* ntp1.example.net  2    6   377     3s     -12us   1.234ms      45us\n"
                        "x 192.0.2.7         2    6   376     3s    +0.25s   1.234ms      45us\n"
                        "? ntp3.example.net  -    6     0      -         -         -         -\n";
    assert_string_equal(fx.out.data, table);

    /* -v: the legend, then the same table */
    fx.out.len = 0;
    ctl_render_sources(fx.recs, fx.n, 1, &fx.out);
    assert_true(strncmp(fx.out.data, "State: * selected", 17) == 0);
    const char *t = strstr(fx.out.data, "\n\nS Name/IP");
    assert_non_null(t);
    assert_string_equal(t + 2, table);
    fx_end(&fx);

    /* every state has its symbol; a long name widens the column */
    static const char *const states[] = {"combined", "candidate", "too few", "too distant",
                                         "unsynced", "noselect",  "denied",  "new-state"};
    static const char syms[] = "+--~?!#?";
    fx_begin(&fx);
    for (size_t i = 0; i < 8; i++)
        add_source(&fx.wire, i ? "s" : "a-rather-long-host-name.example.org", states[i], 1, 1, 0);
    fx_parse(&fx);
    ctl_render_sources(fx.recs, fx.n, 0, &fx.out);
    const char *line = strchr(fx.out.data, '\n') + 1;
    line = strchr(line, '\n') + 1;
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(line[0], syms[i]);
        assert_int_equal(line[1 + 1 + 35 + 1 + 1], '2'); /* stratum, right-aligned */
        line = strchr(line, '\n') + 1;
    }
    fx_end(&fx);
}

static void add_auth(struct ctl_buf *b, int index, const char *name, const char *mode,
                     int cookies, int ke_failing, const char *err)
{
    int nts = strcmp(mode, "NTS") == 0;
    ctl_rec_begin(b, "authdata");
    ctl_rec_int(b, "index", index);
    ctl_rec_str(b, "name", name);
    ctl_rec_str(b, "mode", mode);
    ctl_rec_int(b, "nts", nts);
    ctl_rec_int(b, "keyid", nts ? 0 : 7);
    ctl_rec_str(b, "keytype", nts ? "AEAD" : "AES128");
    ctl_rec_int(b, "keybits", nts ? (cookies ? 256 : 0) : 128);
    ctl_rec_int(b, "aead", nts && cookies ? 15 : 0);
    ctl_rec_int(b, "cookies", cookies);
    ctl_rec_int(b, "kes", nts ? 2 : 0);
    ctl_rec_int(b, "ke_failures", ke_failing + 1);
    ctl_rec_int(b, "ke_failing", ke_failing);
    ctl_rec_int(b, "ke_inflight", 0);
    ctl_rec_double(b, "last_ke", nts ? 125.0 : -1);
    ctl_rec_int(b, "naks", 1);
    ctl_rec_int(b, "replies_ok", 40);
    ctl_rec_int(b, "replies_bad", 3);
    ctl_rec_str(b, "ke_error", err);
    ctl_rec_end(b);
}

/* NTS sources: [NTS] after the name in sources, the authdata table, and
 * check's warnings for a source that cannot re-key or has no cookies. */
static void test_nts_views(void **state)
{
    struct fixture fx;
    (void)state;

    fx_begin(&fx);
    add_tracking(&fx.wire, 1, 0, 2, 12e-6);
    add_source(&fx.wire, "ntp1.example.net", "selected", 0377, 8, 12e-6); /* index 0 */
    ctl_rec_begin(&fx.wire, "source");
    ctl_rec_int(&fx.wire, "index", 1);
    ctl_rec_str(&fx.wire, "name", "192.0.2.7");
    ctl_rec_str(&fx.wire, "state", "unreachable");
    ctl_rec_end(&fx.wire);
    add_auth(&fx.wire, 0, "ntp1.example.net", "NTS", 8, 0, "");
    add_auth(&fx.wire, 1, "192.0.2.7", "key", 0, 0, "");
    fx_parse(&fx);
    ctl_render_sources(fx.recs, fx.n, 0, &fx.out);
    assert_non_null(strstr(fx.out.data, "\n* ntp1.example.net [NTS]  2    6   377 "));
    assert_non_null(strstr(fx.out.data, "\n? 192.0.2.7               -"));
    fx.out.len = 0;
    ctl_render_authdata(fx.recs, fx.n, &fx.out);
    assert_string_equal(fx.out.data,
                        "Name/IP address  Mode KeyID   Type KLen LastKE  KEs KEfail  NAK Cook   "
                        "RepOK RepBad\n"
                        "====================================================================="
                        "================\n"
                        "ntp1.example.net  NTS     -     15  256     2m    2      1    1    8      "
                        "40      3\n"
                        "192.0.2.7         key     7 AES128  128      -    -      -    -    -      "
                        " -      -\n");
    fx.out.len = 0;
    struct ctl_render_check c;
    ctl_render_check_defaults(&c);
    assert_int_equal(ctl_render_check_eval(fx.recs, fx.n, &c, &fx.out), CTL_RENDER_OK);
    fx_end(&fx);

    fx_begin(&fx);
    add_tracking(&fx.wire, 1, 0, 2, 12e-6);
    add_source(&fx.wire, "a.example", "selected", 0377, 8, 12e-6);
    add_auth(&fx.wire, 0, "a.example", "NTS", 3, 2, "TLS handshake: certificate verify failed");
    add_auth(&fx.wire, 1, "b.example", "NTS", 0, 0, "");
    fx_parse(&fx);
    ctl_render_authdata(fx.recs, fx.n, &fx.out);
    assert_non_null(strstr(fx.out.data, "\na.example: last key exchange failed: TLS handshake: "
                                        "certificate verify failed\n"));
    fx.out.len = 0;
    assert_int_equal(ctl_render_check_eval(fx.recs, fx.n, &c, &fx.out), CTL_RENDER_WARNING);
    assert_string_equal(fx.out.data,
                        "TEMPUS WARNING: NTS source a.example cannot re-key (2 failures in a row: "
                        "TLS handshake: certificate verify failed); NTS source b.example has no "
                        "cookies; synced to ntp1.example.net stratum 2 offset -12us, 1/1 sources "
                        "reachable\n");
    fx.out.len = 0;
    assert_int_equal(ctl_render_json("authdata", fx.recs, fx.n, &fx.out), 0);
    assert_true(strncmp(fx.out.data, "{\"authdata\":[{\"index\":0,\"name\":\"a.example\"", 40) ==
                0);
    fx_end(&fx);
}

static void test_sourcestats_text(void **state)
{
    struct fixture fx;
    (void)state;

    fx_begin(&fx);
    ctl_rec_begin(&fx.wire, "sourcestats");
    ctl_rec_int(&fx.wire, "index", 0);
    ctl_rec_str(&fx.wire, "name", "ntp1.example.net");
    ctl_rec_int(&fx.wire, "nsamples", 8);
    ctl_rec_double(&fx.wire, "span", 448);
    ctl_rec_double(&fx.wire, "freq_ppm", 0.1234);
    ctl_rec_double(&fx.wire, "skew_ppm", 0.456);
    ctl_rec_double(&fx.wire, "offset", -7e-6);
    ctl_rec_double(&fx.wire, "stddev", 45e-6);
    ctl_rec_end(&fx.wire);
    ctl_rec_begin(&fx.wire, "sourcestats");
    ctl_rec_str(&fx.wire, "name", "192.0.2.7");
    ctl_rec_int(&fx.wire, "nsamples", 0);
    ctl_rec_end(&fx.wire);
    fx_parse(&fx);
    ctl_render_sourcestats(fx.recs, fx.n, &fx.out);
    assert_string_equal(fx.out.data,
                        "Name/IP address   NP   Span   Frequency       Skew    Offset   Std Dev\n"
                        "======================================================================\n"
                        "ntp1.example.net   8     7m   +0.123ppm   0.456ppm      +7us      45us\n"
                        "192.0.2.7          0      -           -          -         -         -\n");
    fx_end(&fx);
}

static void add_client(struct ctl_buf *b, const char *addr, long long requests, double last)
{
    ctl_rec_begin(b, "client");
    ctl_rec_str(b, "address", addr);
    ctl_rec_int(b, "requests", requests);
    ctl_rec_int(b, "drops", requests / 10);
    ctl_rec_int(b, "kods", requests / 100);
    ctl_rec_double(b, "last_seen", last);
    ctl_rec_end(b);
}

static void test_clients(void **state)
{
    struct fixture fx;
    (void)state;

    fx_begin(&fx);
    add_client(&fx.wire, "192.0.2.1", 5, 3.2);
    add_tracking(&fx.wire, 1, 0, 2, 0);
    add_client(&fx.wire, "2001:db8::1", 12345, 0.5);
    add_client(&fx.wire, "192.0.2.9", 700, 4000);
    add_client(&fx.wire, "192.0.2.3", 700, 1);
    fx_parse(&fx);
    size_t k = ctl_render_top_clients(fx.recs, fx.n, 3);
    assert_int_equal(k, 3);
    ctl_render_clients(fx.recs, k, &fx.out);
    assert_string_equal(fx.out.data, "Address            Requests    Drops     KoDs   Last\n"
                                     "====================================================\n"
                                     "2001:db8::1           12345     1234      123     0s\n"
                                     "192.0.2.3               700       70        7     1s\n"
                                     "192.0.2.9               700       70        7    66m\n");
    /* a cap above the count keeps them all; other kinds are dropped */
    fx_end(&fx);
    fx_begin(&fx);
    add_tracking(&fx.wire, 1, 0, 2, 0);
    add_client(&fx.wire, "192.0.2.1", 5, 3.2);
    fx_parse(&fx);
    assert_int_equal(ctl_render_top_clients(fx.recs, fx.n, 20), 1);
    assert_string_equal(fx.recs[0].kind, "client");
    assert_int_equal(ctl_render_top_clients(fx.recs, 0, 20), 0);
    fx_end(&fx);
}

static void add_serverstats(struct ctl_buf *b, const char *family, long long base)
{
    static const char *const keys[] = {"received",  "answered",   "denied",  "ratelimited", "kod",
                                       "malformed", "wrong_mode", "control", "auth_dropped"};
    ctl_rec_begin(b, "serverstats");
    ctl_rec_str(b, "family", family);
    for (int i = 0; i < 9; i++)
        ctl_rec_int(b, keys[i], base * (9 - i));
    ctl_rec_end(b);
}

static void test_serverstats_text(void **state)
{
    struct fixture fx;
    (void)state;

    fx_begin(&fx);
    add_serverstats(&fx.wire, "ipv4", 1000);
    add_serverstats(&fx.wire, "ipv6", 1);
    ctl_rec_begin(&fx.wire, "serverinfo");
    ctl_rec_int(&fx.wire, "clients", 12);
    ctl_rec_int(&fx.wire, "clients_capacity", 1024);
    ctl_rec_int(&fx.wire, "table_bytes", 65536);
    ctl_rec_int(&fx.wire, "ratelimit", 1);
    ctl_rec_end(&fx.wire);
    ctl_rec_begin(&fx.wire, "recent");
    ctl_rec_double(&fx.wire, "uptime", 90000);
    ctl_rec_double(&fx.wire, "window", 3590);
    ctl_rec_int(&fx.wire, "received_ipv4", 500);
    ctl_rec_int(&fx.wire, "denied_ipv4", 40);
    ctl_rec_int(&fx.wire, "received_ipv6", 7);
    ctl_rec_int(&fx.wire, "denied_ipv6", 2);
    ctl_rec_int(&fx.wire, "peer_changes", 1);
    ctl_rec_end(&fx.wire);
    fx_parse(&fx);
    ctl_render_serverstats(fx.recs, fx.n, &fx.out);
    assert_string_equal(fx.out.data, "                        IPv4         IPv6        Total\n"
                                     "======================================================\n"
                                     "Received                9000            9         9009\n"
                                     "Answered                8000            8         8008\n"
                                     "Denied                  7000            7         7007\n"
                                     "Rate limited            6000            6         6006\n"
                                     "KoD sent                5000            5         5005\n"
                                     "Malformed               4000            4         4004\n"
                                     "Wrong mode              3000            3         3003\n"
                                     "Control                 2000            2         2002\n"
                                     "Auth dropped            1000            1         1001\n"
                                     "Auth failed                0            0            0\n"
                                     "Auth OK                    0            0            0\n"
                                     "Empty                      0            0            0\n"
                                     "Oversized                  0            0            0\n"
                                     "\n"
                                     "Clients tracked : 12 of 1024 (65536 bytes)\n"
                                     "Rate limiting   : on\n"
                                     "Uptime          : 25h\n"
                                     "Last 59m        : 507 received, 42 denied, 1 peer changes\n");
    fx_end(&fx);

    /* one family missing shows "-" */
    fx_begin(&fx);
    add_serverstats(&fx.wire, "ipv6", 2);
    fx_parse(&fx);
    ctl_render_serverstats(fx.recs, fx.n, &fx.out);
    assert_non_null(
        strstr(fx.out.data, "Received                   -           18           18\n"));
    fx_end(&fx);
}

static void test_reload_text(void **state)
{
    struct fixture fx;
    (void)state;

    fx_begin(&fx);
    ctl_rec_begin(&fx.wire, "result");
    ctl_rec_int(&fx.wire, "ok", 0);
    ctl_rec_str(&fx.wire, "message", "configuration not reloaded: 2 errors");
    ctl_rec_end(&fx.wire);
    ctl_rec_begin(&fx.wire, "error");
    ctl_rec_str(&fx.wire, "message", "/etc/tempus/tempus.conf:3: unknown directive 'sever'");
    ctl_rec_end(&fx.wire);
    ctl_rec_begin(&fx.wire, "error");
    ctl_rec_str(&fx.wire, "message", "/etc/tempus/tempus.conf:9: minpoll: 99 out of range");
    ctl_rec_end(&fx.wire);
    fx_parse(&fx);
    assert_int_equal(ctl_render_reload(fx.recs, fx.n, &fx.out), 0);
    assert_string_equal(fx.out.data, "/etc/tempus/tempus.conf:3: unknown directive 'sever'\n"
                                     "/etc/tempus/tempus.conf:9: minpoll: 99 out of range\n"
                                     "configuration not reloaded: 2 errors\n");
    fx_end(&fx);

    fx_begin(&fx);
    ctl_rec_begin(&fx.wire, "result");
    ctl_rec_int(&fx.wire, "ok", 1);
    ctl_rec_str(&fx.wire, "message", "");
    ctl_rec_end(&fx.wire);
    fx_parse(&fx);
    assert_int_equal(ctl_render_reload(fx.recs, fx.n, &fx.out), 1);
    assert_string_equal(fx.out.data, "configuration reloaded\n");
    fx_end(&fx);

    /* no result record at all is a failure */
    fx_begin(&fx);
    assert_int_equal(ctl_render_reload(fx.recs, 0, &fx.out), 0);
    assert_string_equal(fx.out.data, "reload failed\n");
    fx_end(&fx);
}

static void json_of(const char *in, const char *want)
{
    struct ctl_buf b;
    ctl_buf_init(&b, 4096);
    ctl_render_json_string(&b, in);
    assert_string_equal(b.data, want);
    ctl_buf_free(&b);
}

static void test_json_escaping(void **state)
{
    (void)state;
    json_of("", "\"\"");
    json_of(NULL, "\"\"");
    json_of("plain text 1.2", "\"plain text 1.2\"");
    json_of("say \"hi\"", "\"say \\\"hi\\\"\"");
    json_of("C:\\path\\", "\"C:\\\\path\\\\\"");
    json_of("a\nb\tc\rd", "\"a\\nb\\tc\\rd\"");
    json_of("\x01\x1f\x7f/", "\"\\u0001\\u001f\\u007f/\"");
    json_of("\b\f", "\"\\u0008\\u000c\"");
    /* valid UTF-8 passes as is: e-acute, euro sign, an emoji */
    json_of("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* invalid: stray continuation, 0xff, overlong, surrogate, cut short,
     * past U+10FFFF */
    json_of("a\x80z", "\"a\\ufffdz\"");
    json_of("\xff", "\"\\ufffd\"");
    json_of("\xc0\x80", "\"\\ufffd\\ufffd\"");
    json_of("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
    json_of("\xe2\x82", "\"\\ufffd\\ufffd\"");
    json_of("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    json_of("\xc3", "\"\\ufffd\"");
}

static void test_json_views(void **state)
{
    struct fixture fx;
    (void)state;

    fx_begin(&fx);
    ctl_rec_begin(&fx.wire, "tracking");
    ctl_rec_int(&fx.wire, "synced", 1);
    ctl_rec_str(&fx.wire, "ref_name", "a \"quoted\" \\ name");
    ctl_rec_double(&fx.wire, "offset", -1.5e-5);
    ctl_rec_end(&fx.wire);
    add_source(&fx.wire, "s1", "selected", 255, 8, 1e-3);
    add_source(&fx.wire, "s2", "candidate", 1, 1, 0);
    fx_parse(&fx);
    assert_int_equal(ctl_render_json("tracking", fx.recs, fx.n, &fx.out), 0);
    assert_string_equal(fx.out.data, "{\"synced\":1,\"ref_name\":\"a \\\"quoted\\\" \\\\ name\","
                                     "\"offset\":-1.5e-05}\n");
    fx.out.len = 0;
    assert_int_equal(ctl_render_json("sources", fx.recs, fx.n, &fx.out), 0);
    assert_string_equal(
        fx.out.data,
        "{\"sources\":[{\"index\":0,\"name\":\"s1\",\"state\":\"selected\",\"stratum\":2,"
        "\"poll\":6,\"reach\":255,\"reachable\":1,\"age\":12.7,\"last_rx\":3.2,\"offset\":0.001,"
        "\"delay\":0.001234,\"jitter\":4.5e-05,\"nsamples\":8},"
        "{\"index\":0,\"name\":\"s2\",\"state\":\"candidate\",\"stratum\":2,"
        "\"poll\":6,\"reach\":1,\"reachable\":1,\"age\":12.7,\"last_rx\":3.2,\"offset\":0,"
        "\"delay\":0.001234,\"jitter\":4.5e-05,\"nsamples\":1}]}\n");
    fx.out.len = 0;
    assert_int_equal(ctl_render_json("sourcestats", fx.recs, fx.n, &fx.out), 0);
    assert_string_equal(fx.out.data, "{\"sourcestats\":[]}\n");
    fx.out.len = 0;
    assert_int_equal(ctl_render_json("serverstats", fx.recs, fx.n, &fx.out), 0);
    assert_string_equal(fx.out.data, "{\"serverstats\":[],\"serverinfo\":null,\"recent\":null}\n");
    fx.out.len = 0;
    assert_int_equal(ctl_render_json("nonsense", fx.recs, fx.n, &fx.out), -1);
    assert_int_equal(ctl_render_json("tracking", fx.recs + 1, fx.n - 1, &fx.out), -1);
    assert_int_equal(fx.out.len, 0);
    fx_end(&fx);

    fx_begin(&fx);
    add_client(&fx.wire, "2001:db8::1", 3, 0.25);
    ctl_rec_begin(&fx.wire, "result");
    ctl_rec_int(&fx.wire, "ok", 0);
    ctl_rec_str(&fx.wire, "message", "bad");
    ctl_rec_end(&fx.wire);
    ctl_rec_begin(&fx.wire, "error");
    ctl_rec_str(&fx.wire, "message", "f:1: x");
    ctl_rec_end(&fx.wire);
    fx_parse(&fx);
    assert_int_equal(ctl_render_json("clients", fx.recs, fx.n, &fx.out), 0);
    assert_string_equal(fx.out.data, "{\"clients\":[{\"address\":\"2001:db8::1\",\"requests\":3,"
                                     "\"drops\":0,\"kods\":0,\"last_seen\":0.25}]}\n");
    fx.out.len = 0;
    assert_int_equal(ctl_render_json("reload", fx.recs, fx.n, &fx.out), 0);
    assert_string_equal(fx.out.data, "{\"result\":{\"ok\":0,\"message\":\"bad\"},"
                                     "\"errors\":[{\"message\":\"f:1: x\"}]}\n");
    fx_end(&fx);
}

/* Run the check over records made by fn and compare line and status. */
static void check_case(const struct ctl_render_check *c, int synced, int local, int stratum,
                       double offset, int nsources, int nreach, enum ctl_render_status want,
                       const char *line)
{
    struct fixture fx;
    fx_begin(&fx);
    add_tracking(&fx.wire, synced, local, stratum, offset);
    for (int i = 0; i < nsources; i++)
        add_source(&fx.wire, "s", i < nreach ? "combined" : "unreachable", i < nreach ? 1 : 0, 1,
                   0);
    fx_parse(&fx);
    enum ctl_render_status st = ctl_render_check_eval(fx.recs, fx.n, c, &fx.out);
    assert_string_equal(fx.out.data, line);
    assert_int_equal(st, want);
    fx_end(&fx);
}

/* Orphan, local and holdover are not upstream sync: a state of their own,
 * WARNING unless the options say otherwise. */
static void test_check_timesource(void **state)
{
    struct ctl_render_check c;
    enum ctl_render_status lv;
    (void)state;

    ctl_render_check_defaults(&c);
    assert_int_equal(c.on_orphan, CTL_RENDER_WARNING);
    fx_timesource = "orphan";
    check_case(&c, 1, 0, 11, 12e-6, 2, 2, CTL_RENDER_WARNING,
               "TEMPUS WARNING: following orphan peer ntp1.example.net stratum 11 offset -12us, "
               "no upstream, 2/2 sources reachable\n");
    fx_timesource = "holdover";
    check_case(&c, 0, 0, 3, 0, 2, 0, CTL_RENDER_CRITICAL,
               "TEMPUS CRITICAL: 0 sources reachable, need 1; holdover, no source for 12s, "
               "stratum 3, 0/2 sources reachable\n");
    c.min_sources = 0;
    check_case(&c, 0, 0, 3, 0, 2, 0, CTL_RENDER_WARNING,
               "TEMPUS WARNING: holdover, no source for 12s, stratum 3, 0/2 sources reachable\n");
    assert_int_equal(ctl_render_check_level("critical", &lv), 0);
    c.on_holdover = lv;
    check_case(&c, 0, 0, 3, 0, 2, 0, CTL_RENDER_CRITICAL,
               "TEMPUS CRITICAL: holdover, no source for 12s, stratum 3, 0/2 sources reachable\n");
    assert_int_equal(ctl_render_check_level("ok", &c.on_orphan), 0);
    fx_timesource = "orphan";
    check_case(&c, 1, 0, 11, 12e-6, 2, 2, CTL_RENDER_OK,
               "TEMPUS OK: following orphan peer ntp1.example.net stratum 11 offset -12us, "
               "no upstream, 2/2 sources reachable\n");
    fx_timesource = "upstream";
    check_case(&c, 1, 0, 2, 12e-6, 2, 2, CTL_RENDER_OK,
               "TEMPUS OK: synced to ntp1.example.net stratum 2 offset -12us, "
               "2/2 sources reachable\n");
    fx_timesource = "none";
    check_case(&c, 0, 0, 0, 0, 2, 2, CTL_RENDER_CRITICAL,
               "TEMPUS CRITICAL: not synchronised (no majority), 2/2 sources reachable\n");
    assert_int_equal(ctl_render_check_level("fine", &lv), -1);
    fx_timesource = NULL;
}

/* waitsync's verdict on one tracking record. */
static int waitsync_case(int synced, int local, double offset, double max, const char *line)
{
    struct fixture fx;
    fx_begin(&fx);
    add_tracking(&fx.wire, synced, local, 2, offset);
    fx_parse(&fx);
    int done = ctl_render_waitsync(fx.recs, fx.n, max, &fx.out);
    assert_string_equal(fx.out.data, line);
    fx_end(&fx);
    return done;
}

static void test_waitsync(void **state)
{
    (void)state;
    assert_true(waitsync_case(1, 0, 12e-6, 0,
                              "synchronised to ntp1.example.net stratum 2, "
                              "offset -12us, correction 3us\n"));
    assert_true(waitsync_case(1, 0, 12e-6, 0.001,
                              "synchronised to ntp1.example.net stratum 2, "
                              "offset -12us, correction 3us\n"));
    assert_false(waitsync_case(1, 0, 0.2, 0.1,
                               "synchronised, but offset -0.2s, correction 3us: "
                               "above 0.1 s\n"));
    assert_false(waitsync_case(0, 0, 0, 0, "not synchronised (no majority)\n"));
    /* the local reference with upstream sources configured: not yet */
    assert_false(waitsync_case(0, 1, 0, 0, "not synchronised (local)\n"));
    fx_timesource = "holdover";
    assert_false(waitsync_case(0, 0, 0, 0, "not synchronised (holdover)\n"));
    fx_timesource = "orphan";
    assert_true(waitsync_case(1, 0, 0, 0,
                              "synchronised to ntp1.example.net stratum 2, offset +0s, "
                              "correction 3us\n"));
    fx_timesource = NULL;
    struct fixture fx;
    fx_begin(&fx);
    assert_false(ctl_render_waitsync(fx.recs, 0, 0, &fx.out));
    assert_string_equal(fx.out.data, "no tracking record in the reply\n");
    fx_end(&fx);
}


/* A leap second list about to expire, or expired, is a WARNING in check
 * and a line in tracking; so is a smear in progress. */
static void leap_case(double expires_in, double smear, enum ctl_render_status want,
                      const char *check_line, const char *tracking_lines)
{
    struct fixture fx;
    struct ctl_render_check c;

    ctl_render_check_defaults(&c);
    fx_begin(&fx);
    ctl_rec_begin(&fx.wire, "tracking");
    ctl_rec_int(&fx.wire, "synced", 1);
    ctl_rec_str(&fx.wire, "outcome", "ok");
    ctl_rec_str(&fx.wire, "ref_name", "ntp1.example.net");
    ctl_rec_int(&fx.wire, "stratum", 2);
    ctl_rec_int(&fx.wire, "leap", 0);
    ctl_rec_int(&fx.wire, "leap_pending", 1);
    ctl_rec_str(&fx.wire, "leap_source", "leapsectz");
    ctl_rec_double(&fx.wire, "leap_smear", smear);
    if (expires_in == expires_in) /* NaN: no list */
        ctl_rec_double(&fx.wire, "leaplist_expires_in", expires_in);
    ctl_rec_double(&fx.wire, "offset", 1e-5);
    ctl_rec_end(&fx.wire);
    add_source(&fx.wire, "s", "combined", 1, 1, 0);
    fx_parse(&fx);
    assert_int_equal(ctl_render_check_eval(fx.recs, fx.n, &c, &fx.out), want);
    assert_string_equal(fx.out.data, check_line);
    fx.out.len = 0;
    ctl_render_tracking(fx.recs, fx.n, &fx.out);
    ctl_buf_append(&fx.out, "", 1);
    if (!strstr(fx.out.data, tracking_lines))
        fail_msg("tracking lacks:\n%s\nin:\n%s", tracking_lines, fx.out.data);
    fx_end(&fx);
}

static void test_leap_lines(void **state)
{
    (void)state;
    leap_case(-163 * 86400.0, 0.0, CTL_RENDER_WARNING,
              "TEMPUS WARNING: leap second list expired 163 days ago; synced to ntp1.example.net "
              "stratum 2 offset -10us, 1/1 sources reachable\n",
              "Leap second     : inserted at the end of the day (from the leapsectz)\n"
              "Leap list       : expired 163 days ago\n");
    leap_case(10 * 86400.0, -0.25, CTL_RENDER_WARNING,
              "TEMPUS WARNING: leap second list expires in 10 days; synced to ntp1.example.net "
              "stratum 2 offset -10us, 1/1 sources reachable\n",
              "Leap smear      : served time 0.25s behind the clock\n"
              "Leap list       : expires in 10 days\n");
    leap_case(40 * 86400.0, 0.0, CTL_RENDER_OK,
              "TEMPUS OK: synced to ntp1.example.net stratum 2 offset -10us, "
              "1/1 sources reachable\n",
              "Leap list       : expires in 40 days\n");
    leap_case(0.0 / 0.0, 0.0, CTL_RENDER_OK,
              "TEMPUS OK: synced to ntp1.example.net stratum 2 offset -10us, "
              "1/1 sources reachable\n",
              "Leap status     : normal\n");
}

static void test_check(void **state)
{
    struct ctl_render_check c;
    (void)state;

    ctl_render_check_defaults(&c);
    assert_true(c.warn_offset == 0.1 && c.crit_offset == 1.0);
    assert_int_equal(c.min_sources, 1);
    assert_int_equal(c.max_stratum, 15);

    check_case(&c, 1, 0, 2, 12e-6, 3, 3, CTL_RENDER_OK,
               "TEMPUS OK: synced to ntp1.example.net stratum 2 offset -12us, "
               "3/3 sources reachable\n");
    /* at the threshold is still OK; above it is not */
    check_case(&c, 1, 0, 2, -0.1, 3, 3, CTL_RENDER_OK,
               "TEMPUS OK: synced to ntp1.example.net stratum 2 offset +0.1s, "
               "3/3 sources reachable\n");
    check_case(&c, 1, 0, 2, -0.15, 3, 2, CTL_RENDER_WARNING,
               "TEMPUS WARNING: offset +0.15s beyond 0.1s; synced to ntp1.example.net "
               "stratum 2 offset +0.15s, 2/3 sources reachable\n");
    check_case(&c, 1, 0, 2, 1.5, 3, 3, CTL_RENDER_CRITICAL,
               "TEMPUS CRITICAL: offset -1.5s beyond 1s; synced to ntp1.example.net "
               "stratum 2 offset -1.5s, 3/3 sources reachable\n");
    check_case(&c, 0, 0, 16, 0, 3, 0, CTL_RENDER_CRITICAL,
               "TEMPUS CRITICAL: 0 sources reachable, need 1; not synchronised (no majority), "
               "0/3 sources reachable\n");
    check_case(&c, 0, 0, 16, 0, 3, 3, CTL_RENDER_CRITICAL,
               "TEMPUS CRITICAL: not synchronised (no majority), 3/3 sources reachable\n");
    check_case(&c, 0, 1, 10, 0, 2, 2, CTL_RENDER_WARNING,
               "TEMPUS WARNING: serving the local reference only, stratum 10, "
               "2/2 sources reachable\n");
    /* local with nothing reachable: the source count makes it CRITICAL */
    check_case(&c, 0, 1, 10, 0, 0, 0, CTL_RENDER_CRITICAL,
               "TEMPUS CRITICAL: 0 sources reachable, need 1; serving the local reference "
               "only, stratum 10, 0/0 sources reachable\n");

    /* custom limits */
    c.min_sources = 3;
    c.max_stratum = 3;
    c.warn_offset = 1e-3;
    c.crit_offset = 0.5;
    check_case(&c, 1, 0, 4, 2e-3, 3, 2, CTL_RENDER_CRITICAL,
               "TEMPUS CRITICAL: 2 sources reachable, need 3; stratum 4 above 3; offset -2ms "
               "beyond 1ms; synced to ntp1.example.net stratum 4 offset -2ms, "
               "2/3 sources reachable\n");
    c.min_sources = 0;
    check_case(&c, 0, 1, 10, 0, 0, 0, CTL_RENDER_CRITICAL,
               "TEMPUS CRITICAL: stratum 10 above 3; serving the local reference only, "
               "stratum 10, 0/0 sources reachable\n");
    c.max_stratum = 15;
    check_case(&c, 0, 1, 10, 0, 0, 0, CTL_RENDER_WARNING,
               "TEMPUS WARNING: serving the local reference only, stratum 10, "
               "0/0 sources reachable\n");

    /* no tracking record: UNKNOWN */
    struct fixture fx;
    fx_begin(&fx);
    add_source(&fx.wire, "s", "selected", 1, 1, 0);
    fx_parse(&fx);
    assert_int_equal(ctl_render_check_eval(fx.recs, fx.n, &c, &fx.out), CTL_RENDER_UNKNOWN);
    assert_string_equal(fx.out.data, "TEMPUS UNKNOWN: no tracking record in the reply\n");
    fx_end(&fx);

    /* the exit codes are the monitoring plugin ones */
    assert_int_equal(CTL_RENDER_OK, 0);
    assert_int_equal(CTL_RENDER_WARNING, 1);
    assert_int_equal(CTL_RENDER_CRITICAL, 2);
    assert_int_equal(CTL_RENDER_UNKNOWN, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_tracking_text),
        cmocka_unit_test(test_sources_text),
        cmocka_unit_test(test_sourcestats_text),
        cmocka_unit_test(test_clients),
        cmocka_unit_test(test_serverstats_text),
        cmocka_unit_test(test_reload_text),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_json_views),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_nts_views),
        cmocka_unit_test(test_leap_lines),
        cmocka_unit_test(test_check_timesource),
        cmocka_unit_test(test_waitsync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
