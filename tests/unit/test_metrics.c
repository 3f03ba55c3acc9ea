/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* Every record kind the daemon writes, plus kinds metrics ignore (client,
 * result). */
static const char golden_records[] =
    "record=\"tracking\"\nsynced=1\nlocal=0\noutcome=\"ok\"\n"
    "ref_name=\"ntp1.example:123\"\nrefid=3221225985\nrefid_str=\"192.0.2.1\"\n"
    "stratum=2\nleap=0\noffset=-0.000123\nrms_offset=4.5e-05\nfreq_ppm=-12.5\n"
    "freq_err_ppm=0.25\nsystem_offset=1e-06\nroot_delay=0.0125\n"
    "root_dispersion=0.002\nref_time=1700000000\nsince_update=3.5\n"
    "update_interval=16\nntruechimers=2\nnsources=2\nsteps=1\nlast_step=-0.2\n"
    "clock=\"virtual\"\n\n"
    "record=\"source\"\nindex=0\nname=\"ntp1.example:123\"\nstate=\"selected\"\n"
    "stratum=1\npoll=6\nreach=255\nreachable=1\nage=12.25\noffset=-0.000125\n"
    "delay=0.0021\ndispersion=0.000375\njitter=5e-05\nroot_delay=0\n"
    "root_dispersion=0.001\ndistance=0.00655\nleap=0\nrefid=\"GPS\"\nnsamples=8\n"
    "sent=40\nreceived=39\nbogus=0\nkods=0\nprefer=0\nnoselect=0\n\n"
    "record=\"source\"\nindex=1\nname=\"ntp2.example:123\"\nstate=\"unreachable\"\n"
    "stratum=0\npoll=-2\nreach=0\nreachable=0\nage=-1\noffset=0\ndelay=0\n"
    "dispersion=0\njitter=0\nroot_delay=0\nroot_dispersion=0\ndistance=0\n"
    "leap=3\nrefid=\"\"\nnsamples=0\nsent=5\nreceived=0\nbogus=2\nkods=1\nprefer=0\n"
    "noselect=0\n\n"
    "record=\"sourcestats\"\nindex=0\nname=\"ntp1.example:123\"\nnsamples=8\n"
    "span=448\nfreq_ppm=0.5\nskew_ppm=0.02\noffset=-0.0001\nstddev=2e-05\n\n"
    "record=\"serverstats\"\nfamily=\"ipv4\"\nreceived=123456789012\nanswered=100\n"
    "denied=3\nratelimited=4\nkod=5\nmalformed=6\nwrong_mode=7\ncontrol=8\n"
    "auth_dropped=9\n\n"
    "record=\"serverstats\"\nfamily=\"ipv6\"\nreceived=10\nanswered=9\ndenied=0\n"
    "ratelimited=0\nkod=0\nmalformed=1\nwrong_mode=0\ncontrol=0\nauth_dropped=0\n\n"
    "record=\"serverinfo\"\nclients=12\nclients_capacity=65536\n"
    "table_bytes=4194304\nratelimit=1\n\n"
    "record=\"recent\"\nuptime=86400.5\nwindow=3590\nreceived_ipv4=7\ndenied_ipv4=1\n"
    "received_ipv6=0\ndenied_ipv6=0\npeer_changes=0\nsteps=0\n\n"
    "record=\"client\"\naddress=\"192.0.2.7\"\nrequests=5\ndrops=0\nkods=0\n"
    "last_seen=1.5\n\n"
    "record=\"result\"\nok=1\nmessage=\"fine\"\n\n";

static const char golden_metrics[] =
    "# HELP tempus_synchronized 1 if a system peer is selected and disciplines the clock.\n"
    "# TYPE tempus_synchronized gauge\n"
    "tempus_synchronized 1\n"
    "# HELP tempus_local_reference 1 while serving the local reference (no upstream).\n"
    "# TYPE tempus_local_reference gauge\n"
    "tempus_local_reference 0\n"
    "# HELP tempus_tracking_info Selection outcome, reference and clock backend as labels; always "
    "1.\n"
    "# TYPE tempus_tracking_info gauge\n"
    "tempus_tracking_info{outcome=\"ok\",reference=\"ntp1.example:123\",refid=\"192.0.2.1\",clock="
    "\"virtual\"} 1\n"
    "# HELP tempus_stratum Stratum served to clients.\n"
    "# TYPE tempus_stratum gauge\n"
    "tempus_stratum 2\n"
    "# HELP tempus_leap_status Leap indicator of the system: 0 none, 1 insert, 2 delete, 3 "
    "unsynchronized.\n"
    "# TYPE tempus_leap_status gauge\n"
    "tempus_leap_status 0\n"
    "# HELP tempus_offset_seconds Last combined offset of the sources against the local clock.\n"
    "# TYPE tempus_offset_seconds gauge\n"
    "tempus_offset_seconds -0.000123\n"
    "# HELP tempus_rms_offset_seconds Long-term RMS of the measured offsets.\n"
    "# TYPE tempus_rms_offset_seconds gauge\n"
    "tempus_rms_offset_seconds 4.5e-05\n"
    "# HELP tempus_system_offset_seconds Correction still to be slewed into the clock.\n"
    "# TYPE tempus_system_offset_seconds gauge\n"
    "tempus_system_offset_seconds 1e-06\n"
    "# HELP tempus_frequency_correction_ratio Frequency correction applied to the clock (1e-6 = 1 "
    "ppm).\n"
    "# TYPE tempus_frequency_correction_ratio gauge\n"
    "tempus_frequency_correction_ratio -1.25e-05\n"
    "# HELP tempus_frequency_skew_ratio Estimated error bound of the frequency correction (1e-6 = "
    "1 ppm).\n"
    "# TYPE tempus_frequency_skew_ratio gauge\n"
    "tempus_frequency_skew_ratio 2.5e-07\n"
    "# HELP tempus_root_delay_seconds Root delay served to clients.\n"
    "# TYPE tempus_root_delay_seconds gauge\n"
    "tempus_root_delay_seconds 0.0125\n"
    "# HELP tempus_root_dispersion_seconds Root dispersion served to clients.\n"
    "# TYPE tempus_root_dispersion_seconds gauge\n"
    "tempus_root_dispersion_seconds 0.002\n"
    "# HELP tempus_last_update_age_seconds Seconds since the clock was last updated from the "
    "sources.\n"
    "# TYPE tempus_last_update_age_seconds gauge\n"
    "tempus_last_update_age_seconds 3.5\n"
    "# HELP tempus_update_interval_seconds Interval between the last two clock updates.\n"
    "# TYPE tempus_update_interval_seconds gauge\n"
    "tempus_update_interval_seconds 16\n"
    "# HELP tempus_sources_truechimers Sources in the majority agreement of the last selection.\n"
    "# TYPE tempus_sources_truechimers gauge\n"
    "tempus_sources_truechimers 2\n"
    "# HELP tempus_sources Configured upstream sources.\n"
    "# TYPE tempus_sources gauge\n"
    "tempus_sources 2\n"
    "# HELP tempus_clock_steps_total Times the clock was stepped.\n"
    "# TYPE tempus_clock_steps_total counter\n"
    "tempus_clock_steps_total 1\n"
    "# HELP tempus_last_step_seconds Size of the last clock step.\n"
    "# TYPE tempus_last_step_seconds gauge\n"
    "tempus_last_step_seconds -0.2\n"
    "# HELP tempus_source_state Selection state of the source: 1 for the current state, 0 for the "
    "others.\n"
    "# TYPE tempus_source_state gauge\n"
    "tempus_source_state{source=\"ntp1.example:123\",state=\"unreachable\"} 0\n"
    "tempus_source_state{source=\"ntp1.example:123\",state=\"noselect\"} 0\n"
    "tempus_source_state{source=\"ntp1.example:123\",state=\"loop\"} 0\n"
    "tempus_source_state{source=\"ntp1.example:123\",state=\"orphan\"} 0\n"
    "tempus_source_state{source=\"ntp1.example:123\",state=\"unsynced\"} 0\n"
    "tempus_source_state{source=\"ntp1.example:123\",state=\"too distant\"} 0\n"
    "tempus_source_state{source=\"ntp1.example:123\",state=\"falseticker\"} 0\n"
    "tempus_source_state{source=\"ntp1.example:123\",state=\"too few\"} 0\n"
    "tempus_source_state{source=\"ntp1.example:123\",state=\"candidate\"} 0\n"
    "tempus_source_state{source=\"ntp1.example:123\",state=\"combined\"} 0\n"
    "tempus_source_state{source=\"ntp1.example:123\",state=\"selected\"} 1\n"
    "tempus_source_state{source=\"ntp1.example:123\",state=\"denied\"} 0\n"
    "tempus_source_state{source=\"ntp2.example:123\",state=\"unreachable\"} 1\n"
    "tempus_source_state{source=\"ntp2.example:123\",state=\"noselect\"} 0\n"
    "tempus_source_state{source=\"ntp2.example:123\",state=\"loop\"} 0\n"
    "tempus_source_state{source=\"ntp2.example:123\",state=\"orphan\"} 0\n"
    "tempus_source_state{source=\"ntp2.example:123\",state=\"unsynced\"} 0\n"
    "tempus_source_state{source=\"ntp2.example:123\",state=\"too distant\"} 0\n"
    "tempus_source_state{source=\"ntp2.example:123\",state=\"falseticker\"} 0\n"
    "tempus_source_state{source=\"ntp2.example:123\",state=\"too few\"} 0\n"
    "tempus_source_state{source=\"ntp2.example:123\",state=\"candidate\"} 0\n"
    "tempus_source_state{source=\"ntp2.example:123\",state=\"combined\"} 0\n"
    "tempus_source_state{source=\"ntp2.example:123\",state=\"selected\"} 0\n"
    "tempus_source_state{source=\"ntp2.example:123\",state=\"denied\"} 0\n"
    "# HELP tempus_source_selected 1 if the source is the system peer.\n"
    "# TYPE tempus_source_selected gauge\n"
    "tempus_source_selected{source=\"ntp1.example:123\"} 1\n"
    "tempus_source_selected{source=\"ntp2.example:123\"} 0\n"
    "# HELP tempus_source_reachable 1 if the source answered one of the last 3 polls "
    "(tempusctl(8), REACHABILITY).\n"
    "# TYPE tempus_source_reachable gauge\n"
    "tempus_source_reachable{source=\"ntp1.example:123\"} 1\n"
    "tempus_source_reachable{source=\"ntp2.example:123\"} 0\n"
    "# HELP tempus_source_reach_register Reachability register of the last 8 polls (newest in bit "
    "0).\n"
    "# TYPE tempus_source_reach_register gauge\n"
    "tempus_source_reach_register{source=\"ntp1.example:123\"} 255\n"
    "tempus_source_reach_register{source=\"ntp2.example:123\"} 0\n"
    "# HELP tempus_source_stratum Stratum of the source.\n"
    "# TYPE tempus_source_stratum gauge\n"
    "tempus_source_stratum{source=\"ntp1.example:123\"} 1\n"
    "tempus_source_stratum{source=\"ntp2.example:123\"} 0\n"
    "# HELP tempus_source_leap_status Leap indicator of the source.\n"
    "# TYPE tempus_source_leap_status gauge\n"
    "tempus_source_leap_status{source=\"ntp1.example:123\"} 0\n"
    "tempus_source_leap_status{source=\"ntp2.example:123\"} 3\n"
    "# HELP tempus_source_poll_seconds Current poll interval.\n"
    "# TYPE tempus_source_poll_seconds gauge\n"
    "tempus_source_poll_seconds{source=\"ntp1.example:123\"} 64\n"
    "tempus_source_poll_seconds{source=\"ntp2.example:123\"} 0.25\n"
    "# HELP tempus_source_last_sample_age_seconds Age of the sample the filter picked.\n"
    "# TYPE tempus_source_last_sample_age_seconds gauge\n"
    "tempus_source_last_sample_age_seconds{source=\"ntp1.example:123\"} 12.25\n"
    "# HELP tempus_source_offset_seconds Offset of the source against the local clock (positive: "
    "the source is ahead).\n"
    "# TYPE tempus_source_offset_seconds gauge\n"
    "tempus_source_offset_seconds{source=\"ntp1.example:123\"} -0.000125\n"
    "# HELP tempus_source_delay_seconds Round-trip delay to the source.\n"
    "# TYPE tempus_source_delay_seconds gauge\n"
    "tempus_source_delay_seconds{source=\"ntp1.example:123\"} 0.0021\n"
    "# HELP tempus_source_dispersion_seconds Dispersion of the picked sample, grown to now.\n"
    "# TYPE tempus_source_dispersion_seconds gauge\n"
    "tempus_source_dispersion_seconds{source=\"ntp1.example:123\"} 0.000375\n"
    "# HELP tempus_source_jitter_seconds RMS of offset differences in the clock filter.\n"
    "# TYPE tempus_source_jitter_seconds gauge\n"
    "tempus_source_jitter_seconds{source=\"ntp1.example:123\"} 5e-05\n"
    "# HELP tempus_source_root_delay_seconds Root delay the source reports.\n"
    "# TYPE tempus_source_root_delay_seconds gauge\n"
    "tempus_source_root_delay_seconds{source=\"ntp1.example:123\"} 0\n"
    "# HELP tempus_source_root_dispersion_seconds Root dispersion the source reports.\n"
    "# TYPE tempus_source_root_dispersion_seconds gauge\n"
    "tempus_source_root_dispersion_seconds{source=\"ntp1.example:123\"} 0.001\n"
    "# HELP tempus_source_distance_seconds Root distance of the source as selection sees it.\n"
    "# TYPE tempus_source_distance_seconds gauge\n"
    "tempus_source_distance_seconds{source=\"ntp1.example:123\"} 0.00655\n"
    "# HELP tempus_source_samples Samples in the clock filter.\n"
    "# TYPE tempus_source_samples gauge\n"
    "tempus_source_samples{source=\"ntp1.example:123\"} 8\n"
    "tempus_source_samples{source=\"ntp2.example:123\"} 0\n"
    "# HELP tempus_source_sent_total Requests sent to the source.\n"
    "# TYPE tempus_source_sent_total counter\n"
    "tempus_source_sent_total{source=\"ntp1.example:123\"} 40\n"
    "tempus_source_sent_total{source=\"ntp2.example:123\"} 5\n"
    "# HELP tempus_source_received_total Valid replies received from the source.\n"
    "# TYPE tempus_source_received_total counter\n"
    "tempus_source_received_total{source=\"ntp1.example:123\"} 39\n"
    "tempus_source_received_total{source=\"ntp2.example:123\"} 0\n"
    "# HELP tempus_source_bogus_total Packets from the source that did not answer an outstanding "
    "request.\n"
    "# TYPE tempus_source_bogus_total counter\n"
    "tempus_source_bogus_total{source=\"ntp1.example:123\"} 0\n"
    "tempus_source_bogus_total{source=\"ntp2.example:123\"} 2\n"
    "# HELP tempus_source_kod_total Kiss-o'-death packets received from the source.\n"
    "# TYPE tempus_source_kod_total counter\n"
    "tempus_source_kod_total{source=\"ntp1.example:123\"} 0\n"
    "tempus_source_kod_total{source=\"ntp2.example:123\"} 1\n"
    "# HELP tempus_source_estimated_offset_seconds Offset of the source now, from a line fitted "
    "through its samples.\n"
    "# TYPE tempus_source_estimated_offset_seconds gauge\n"
    "tempus_source_estimated_offset_seconds{source=\"ntp1.example:123\"} -0.0001\n"
    "# HELP tempus_source_offset_stddev_seconds Standard deviation of the samples around the "
    "fitted line.\n"
    "# TYPE tempus_source_offset_stddev_seconds gauge\n"
    "tempus_source_offset_stddev_seconds{source=\"ntp1.example:123\"} 2e-05\n"
    "# HELP tempus_source_frequency_ratio Drift of the source against the local clock (1e-6 = 1 "
    "ppm).\n"
    "# TYPE tempus_source_frequency_ratio gauge\n"
    "tempus_source_frequency_ratio{source=\"ntp1.example:123\"} 5e-07\n"
    "# HELP tempus_source_skew_ratio Error bound of the drift estimate (1e-6 = 1 ppm).\n"
    "# TYPE tempus_source_skew_ratio gauge\n"
    "tempus_source_skew_ratio{source=\"ntp1.example:123\"} 2e-08\n"
    "# HELP tempus_source_sample_span_seconds Time covered by the samples in the fit.\n"
    "# TYPE tempus_source_sample_span_seconds gauge\n"
    "tempus_source_sample_span_seconds{source=\"ntp1.example:123\"} 448\n"
    "# HELP tempus_server_requests_received_total NTP requests received.\n"
    "# TYPE tempus_server_requests_received_total counter\n"
    "tempus_server_requests_received_total{family=\"ipv4\"} 123456789012\n"
    "tempus_server_requests_received_total{family=\"ipv6\"} 10\n"
    "# HELP tempus_server_requests_answered_total NTP requests answered with time.\n"
    "# TYPE tempus_server_requests_answered_total counter\n"
    "tempus_server_requests_answered_total{family=\"ipv4\"} 100\n"
    "tempus_server_requests_answered_total{family=\"ipv6\"} 9\n"
    "# HELP tempus_server_requests_denied_total NTP requests dropped by the access list.\n"
    "# TYPE tempus_server_requests_denied_total counter\n"
    "tempus_server_requests_denied_total{family=\"ipv4\"} 3\n"
    "tempus_server_requests_denied_total{family=\"ipv6\"} 0\n"
    "# HELP tempus_server_requests_ratelimited_total NTP requests dropped by rate limiting.\n"
    "# TYPE tempus_server_requests_ratelimited_total counter\n"
    "tempus_server_requests_ratelimited_total{family=\"ipv4\"} 4\n"
    "tempus_server_requests_ratelimited_total{family=\"ipv6\"} 0\n"
    "# HELP tempus_server_requests_kod_total NTP requests answered with a RATE kiss-o'-death.\n"
    "# TYPE tempus_server_requests_kod_total counter\n"
    "tempus_server_requests_kod_total{family=\"ipv4\"} 5\n"
    "tempus_server_requests_kod_total{family=\"ipv6\"} 0\n"
    "# HELP tempus_server_requests_malformed_total NTP requests dropped as malformed.\n"
    "# TYPE tempus_server_requests_malformed_total counter\n"
    "tempus_server_requests_malformed_total{family=\"ipv4\"} 6\n"
    "tempus_server_requests_malformed_total{family=\"ipv6\"} 1\n"
    "# HELP tempus_server_requests_wrong_mode_total NTP packets dropped for a mode other than "
    "client.\n"
    "# TYPE tempus_server_requests_wrong_mode_total counter\n"
    "tempus_server_requests_wrong_mode_total{family=\"ipv4\"} 7\n"
    "tempus_server_requests_wrong_mode_total{family=\"ipv6\"} 0\n"
    "# HELP tempus_server_requests_control_total NTP mode 6/7 control packets dropped.\n"
    "# TYPE tempus_server_requests_control_total counter\n"
    "tempus_server_requests_control_total{family=\"ipv4\"} 8\n"
    "tempus_server_requests_control_total{family=\"ipv6\"} 0\n"
    "# HELP tempus_server_requests_auth_dropped_total NTP requests with a MAC no key can "
    "check, ignored.\n"
    "# TYPE tempus_server_requests_auth_dropped_total counter\n"
    "tempus_server_requests_auth_dropped_total{family=\"ipv4\"} 9\n"
    "tempus_server_requests_auth_dropped_total{family=\"ipv6\"} 0\n"
    "# HELP tempus_server_clients Clients in the rate limiting table.\n"
    "# TYPE tempus_server_clients gauge\n"
    "tempus_server_clients 12\n"
    "# HELP tempus_server_clients_capacity Capacity of the rate limiting table.\n"
    "# TYPE tempus_server_clients_capacity gauge\n"
    "tempus_server_clients_capacity 65536\n"
    "# HELP tempus_server_client_table_bytes Memory of the rate limiting table.\n"
    "# TYPE tempus_server_client_table_bytes gauge\n"
    "tempus_server_client_table_bytes 4194304\n"
    "# HELP tempus_server_ratelimit_enabled 1 if rate limiting is on.\n"
    "# TYPE tempus_server_ratelimit_enabled gauge\n"
    "tempus_server_ratelimit_enabled 1\n"
    "# HELP tempus_uptime_seconds Seconds since the daemon started (a drop is a restart).\n"
    "# TYPE tempus_uptime_seconds gauge\n"
    "tempus_uptime_seconds 86400.5\n";

/* Render a payload of records (copied: parsing works in place); the caller
 * frees the text. */
static char *render(const char *payload)
{
    static struct ctl_record recs[64];
    size_t len = strlen(payload);
    char *copy = malloc(len + 1);
    struct ctl_buf out;

    memcpy(copy, payload, len + 1);
    int n = ctl_records_parse(copy, len, recs, 64);
    if (n < 0)
        fail_msg("test payload does not parse:\n%s", payload);
    ctl_buf_init(&out, CTL_MAX_REPLY);
    metrics_render(recs, (size_t)n, &out);
    assert_false(out.overflow);
    char *text = strdup(out.data);
    ctl_buf_free(&out);
    free(copy);
    return text;
}

static void expect(const char *payload, const char *want)
{
    char *got = render(payload);
    if (strcmp(got, want) != 0)
        fail_msg("rendered:\n%s\nexpected:\n%s", got, want);
    free(got);
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void test_golden(void **state)
{
    (void)state;
    expect(golden_records, golden_metrics);
}

static void test_one_header_per_family(void **state)
{
    (void)state;
    char *got = render(golden_records);
    const char *p = got;
    /* every family's HELP and TYPE come once, right before its samples */
    while ((p = strstr(p, "# TYPE ")) != NULL) {
        char name[128], line[160];
        assert_int_equal(sscanf(p, "# TYPE %127s", name), 1);
        snprintf(line, sizeof(line), "# TYPE %s ", name);
        assert_int_equal(count(got, line), 1);
        snprintf(line, sizeof(line), "# HELP %s ", name);
        assert_int_equal(count(got, line), 1);
        p++;
    }
    assert_int_equal(count(got, "# TYPE "), 57); /* all families */
    assert_int_equal(count(got, "# HELP "), 57);
    free(got);
}

static void test_escaping(void **state)
{
    (void)state;
    /* quotes and backslashes as the control protocol carries them */
    expect("record=\"source\"\nname=\"a\\\"b\\\\c\"\nreachable=1\n\n",
           "# HELP tempus_source_reachable 1 if the source answered one of the last 3 polls "
    "(tempusctl(8), REACHABILITY).\n"
           "# TYPE tempus_source_reachable gauge\n"
           "tempus_source_reachable{source=\"a\\\"b\\\\c\"} 1\n");

    /* a newline cannot come through the protocol; built by hand here */
    struct ctl_record r = {.kind = "serverinfo", .n = 2};
    r.f[0] = (struct ctl_field){"record", "serverinfo", 1};
    r.f[1] = (struct ctl_field){"clients", "7", 0};
    struct ctl_record s = {.kind = "serverstats", .n = 3};
    s.f[0] = (struct ctl_field){"record", "serverstats", 1};
    s.f[1] = (struct ctl_field){"family", "x\n\"y\"\\", 1};
    s.f[2] = (struct ctl_field){"kod", "5", 0};
    struct ctl_record recs[2] = {r, s};
    struct ctl_buf out;
    ctl_buf_init(&out, 4096);
    metrics_render(recs, 2, &out);
    assert_string_equal(out.data,
                        "# HELP tempus_server_requests_kod_total NTP requests answered with a "
                        "RATE kiss-o'-death.\n"
                        "# TYPE tempus_server_requests_kod_total counter\n"
                        "tempus_server_requests_kod_total{family=\"x\\n\\\"y\\\"\\\\\"} 5\n"
                        "# HELP tempus_server_clients Clients in the rate limiting table.\n"
                        "# TYPE tempus_server_clients gauge\n"
                        "tempus_server_clients 7\n");
    ctl_buf_free(&out);
}

static void test_unknown_kinds(void **state)
{
    (void)state;
    expect("record=\"client\"\naddress=\"192.0.2.1\"\nrequests=5\n\n"
           "record=\"result\"\nok=1\nmessage=\"x\"\n\n"
           "record=\"error\"\nmessage=\"y\"\n\n"
           "record=\"tracking2\"\nstratum=3\n\n"
           "record=\"future\"\nsynced=1\nname=\"n\"\n\n",
           "");
    expect("", "");
    /* unknown records in between change nothing */
    size_t len = strlen(golden_records);
    char *mixed = malloc(2 * len + 64);
    sprintf(mixed, "record=\"future\"\nstratum=9\n\n%s", golden_records);
    expect(mixed, golden_metrics);
    free(mixed);
}

static void test_missing_fields(void **state)
{
    (void)state;
    expect("record=\"tracking\"\nstratum=3\n\n",
           "# HELP tempus_stratum Stratum served to clients.\n"
           "# TYPE tempus_stratum gauge\n"
           "tempus_stratum 3\n");
    /* a string where a number belongs is skipped, not read as 0 */
    expect("record=\"tracking\"\nstratum=\"3\"\nsynced=\"yes\"\n\n", "");
    /* a source without a name cannot be labelled: skipped whole */
    expect("record=\"source\"\nindex=1\nstate=\"selected\"\noffset=0.5\nreachable=1\n\n", "");
    expect("record=\"serverstats\"\nreceived=5\n\n", "");
    /* nsamples absent: the offset is taken as it is */
    expect("record=\"source\"\nname=\"s\"\noffset=0.5\n\n",
           "# HELP tempus_source_offset_seconds Offset of the source against the local clock "
           "(positive: the source is ahead).\n"
           "# TYPE tempus_source_offset_seconds gauge\n"
           "tempus_source_offset_seconds{source=\"s\"} 0.5\n");
    /* the info sample keeps its label set when fields are missing */
    expect("record=\"tracking\"\noutcome=\"no majority\"\n\n",
           "# HELP tempus_tracking_info Selection outcome, reference and clock backend as "
           "labels; always 1.\n"
           "# TYPE tempus_tracking_info gauge\n"
           "tempus_tracking_info{outcome=\"no majority\",reference=\"\",refid=\"\",clock=\"\"} "
           "1\n");
}

static void test_no_made_up_values(void **state)
{
    (void)state;
    /* never updated: no age sample rather than -1 */
    expect("record=\"tracking\"\nsince_update=-1\n\n", "");
    /* no samples: no offset, delay... (the record holds zeros) */
    expect("record=\"source\"\nname=\"s\"\nnsamples=0\noffset=0\ndelay=0\njitter=0\nage=-1\n"
           "distance=0\n\n"
           "record=\"sourcestats\"\nname=\"s\"\nnsamples=0\noffset=0\nstddev=0\nfreq_ppm=0\n"
           "skew_ppm=0\nspan=0\n\n",
           "# HELP tempus_source_samples Samples in the clock filter.\n"
           "# TYPE tempus_source_samples gauge\n"
           "tempus_source_samples{source=\"s\"} 0\n"
           "# HELP tempus_source_sample_span_seconds Time covered by the samples in the fit.\n"
           "# TYPE tempus_source_sample_span_seconds gauge\n"
           "tempus_source_sample_span_seconds{source=\"s\"} 0\n");
}

static void test_duplicates(void **state)
{
    (void)state;
    /* one series each: a second tracking record or a second source of the
     * same name would make Prometheus reject the scrape */
    expect("record=\"tracking\"\nstratum=3\n\nrecord=\"tracking\"\nstratum=4\n\n"
           "record=\"source\"\nname=\"a\"\nstratum=1\n\n"
           "record=\"source\"\nname=\"b\"\nstratum=2\n\n"
           "record=\"source\"\nname=\"a\"\nstratum=5\n\n",
           "# HELP tempus_stratum Stratum served to clients.\n"
           "# TYPE tempus_stratum gauge\n"
           "tempus_stratum 3\n"
           "# HELP tempus_source_stratum Stratum of the source.\n"
           "# TYPE tempus_source_stratum gauge\n"
           "tempus_source_stratum{source=\"a\"} 1\n"
           "tempus_source_stratum{source=\"b\"} 2\n");
}

static void test_values(void **state)
{
    (void)state;
    expect("record=\"serverstats\"\nfamily=\"ipv4\"\nreceived=9007199254740991\nanswered=-0\n"
           "denied=1e+300\nratelimited=-0.5\nkod=1.5e-09\n\n",
           "# HELP tempus_server_requests_received_total NTP requests received.\n"
           "# TYPE tempus_server_requests_received_total counter\n"
           "tempus_server_requests_received_total{family=\"ipv4\"} 9007199254740991\n"
           "# HELP tempus_server_requests_answered_total NTP requests answered with time.\n"
           "# TYPE tempus_server_requests_answered_total counter\n"
           "tempus_server_requests_answered_total{family=\"ipv4\"} 0\n"
           "# HELP tempus_server_requests_denied_total NTP requests dropped by the access list.\n"
           "# TYPE tempus_server_requests_denied_total counter\n"
           "tempus_server_requests_denied_total{family=\"ipv4\"} 1e+300\n"
           "# HELP tempus_server_requests_ratelimited_total NTP requests dropped by rate "
           "limiting.\n"
           "# TYPE tempus_server_requests_ratelimited_total counter\n"
           "tempus_server_requests_ratelimited_total{family=\"ipv4\"} -0.5\n"
           "# HELP tempus_server_requests_kod_total NTP requests answered with a RATE "
           "kiss-o'-death.\n"
           "# TYPE tempus_server_requests_kod_total counter\n"
           "tempus_server_requests_kod_total{family=\"ipv4\"} 1.5e-09\n");
    expect("record=\"source\"\nname=\"s\"\npoll=17\n\n"
           "record=\"source\"\nname=\"t\"\npoll=-4\n\n",
           "# HELP tempus_source_poll_seconds Current poll interval.\n"
           "# TYPE tempus_source_poll_seconds gauge\n"
           "tempus_source_poll_seconds{source=\"s\"} 131072\n"
           "tempus_source_poll_seconds{source=\"t\"} 0.0625\n");
    expect("record=\"tracking\"\nfreq_ppm=500\nfreq_err_ppm=-0.001\n\n",
           "# HELP tempus_frequency_correction_ratio Frequency correction applied to the clock "
           "(1e-6 = 1 ppm).\n"
           "# TYPE tempus_frequency_correction_ratio gauge\n"
           "tempus_frequency_correction_ratio 0.0005\n"
           "# HELP tempus_frequency_skew_ratio Estimated error bound of the frequency "
           "correction (1e-6 = 1 ppm).\n"
           "# TYPE tempus_frequency_skew_ratio gauge\n"
           "tempus_frequency_skew_ratio -1e-09\n");
}

/* The NTS families from authdata records, one series per source; a
 * source that never had a key exchange has no age sample. */
static void test_nts(void **state)
{
    (void)state;
    char *got = render("record=\"authdata\"\nname=\"a\"\nmode=\"NTS\"\nnts=1\ncookies=8\n"
                       "kes=2\nke_failures=1\nlast_ke=12.5\nnaks=1\nreplies_ok=40\n"
                       "replies_bad=3\n\n"
                       "record=\"authdata\"\nname=\"b\"\nmode=\"none\"\nnts=0\ncookies=0\n"
                       "kes=0\nke_failures=0\nlast_ke=-1\nnaks=0\nreplies_ok=0\n"
                       "replies_bad=0\n\n");
    static const char *const want[] = {
        "tempus_source_nts{source=\"a\"} 1\n",
        "tempus_source_nts{source=\"b\"} 0\n",
        "tempus_source_nts_cookies{source=\"a\"} 8\n",
        "# TYPE tempus_source_nts_key_exchanges_total counter\n",
        "tempus_source_nts_key_exchanges_total{source=\"a\"} 2\n",
        "tempus_source_nts_key_exchange_failures_total{source=\"a\"} 1\n",
        "tempus_source_nts_last_key_exchange_age_seconds{source=\"a\"} 12.5\n",
        "tempus_source_nts_naks_total{source=\"a\"} 1\n",
        "tempus_source_nts_replies_ok_total{source=\"a\"} 40\n",
        "tempus_source_nts_replies_bad_total{source=\"a\"} 3\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(got, want[i]))
            fail_msg("no line '%s' in:\n%s", want[i], got);
    assert_null(strstr(got, "tempus_source_nts_last_key_exchange_age_seconds{source=\"b\"}"));
    free(got);
}

static void test_states(void **state)
{
    (void)state;
    char *got = render("record=\"source\"\nname=\"d\"\nstate=\"denied\"\n\n"
                       "record=\"source\"\nname=\"w\"\nstate=\"warming up\"\n\n");
    /* every known state once per source, the current one at 1 */
    assert_int_equal(count(got, "tempus_source_state{source=\"d\""), 12);
    assert_int_equal(count(got, "tempus_source_state{source=\"d\",state=\"denied\"} 1\n"), 1);
    assert_int_equal(count(got, "tempus_source_state{source=\"d\",state=\"falseticker\"} 0\n"), 1);
    assert_int_equal(count(got, "} 1\n"), 2);
    /* a state this version does not know still shows, at 1 */
    assert_int_equal(count(got, "tempus_source_state{source=\"w\""), 13);
    assert_int_equal(count(got, "tempus_source_state{source=\"w\",state=\"warming up\"} 1\n"), 1);
    assert_int_equal(count(got, "tempus_source_selected{source=\"d\"} 0\n"), 1);
    assert_int_equal(count(got, "tempus_source_selected{source=\"w\"} 0\n"), 1);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),         cmocka_unit_test(test_one_header_per_family),
        cmocka_unit_test(test_escaping),       cmocka_unit_test(test_unknown_kinds),
        cmocka_unit_test(test_missing_fields), cmocka_unit_test(test_no_made_up_values),
        cmocka_unit_test(test_duplicates),     cmocka_unit_test(test_values),
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_nts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
