/* SPDX-License-Identifier: ISC */
/* tzleap: arbitrary bytes through tzleap_parse (the TZif leap record
 * reader behind leapsectz). Asserts that
 *   - it returns 0 with a table, or -1 with exactly one error line
 *     "fuzz.tz: ..." of printable characters;
 *   - an accepted table starts in 1972 with at least one leap second after,
 *     and at every day's end from 1972 to 2040 it has a leap of -1, 0 or +1
 *     and TAI - UTC moves by exactly that over the midnight. */
#include "fuzz.h"

#include "tzleap.h"

#define NAME "fuzz.tz"

static char errbuf[4096];

static void check_table(const struct leap_table *t)
{
    FUZZ_CHECK(leapfile_count(t) >= 2 && leapfile_count(t) <= LEAPFILE_MAX_ENTRIES);
    for (time_t day = 63072000 + 43200; day < 2208988800; day += 86400) {
        int l = leapfile_leap_today(t, day);
        FUZZ_CHECK(l >= -1 && l <= 1);
        if (l)
            FUZZ_CHECK(leapfile_tai_offset(t, day + 43200) - leapfile_tai_offset(t, day) == l);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct leap_table *t = NULL;
    FILE *errs = fmemopen(errbuf, sizeof(errbuf), "w");

    FUZZ_CHECK(errs != NULL);
    int rc = tzleap_parse(NAME, data, size, errs, &t);
    long n = ftell(errs);
    fclose(errs);
    if (rc == 0) {
        FUZZ_CHECK(n == 0);
        check_table(t);
        leapfile_free(t);
        return 0;
    }
    FUZZ_CHECK(rc == -1 && n > (long)sizeof(NAME) && (size_t)n < sizeof(errbuf));
    FUZZ_CHECK(memcmp(errbuf, NAME ": ", sizeof(NAME) + 1) == 0);
    FUZZ_CHECK(errbuf[n - 1] == '\n' && memchr(errbuf, '\n', (size_t)n - 1) == NULL);
    for (long i = 0; i < n - 1; i++)
        FUZZ_CHECK((unsigned char)errbuf[i] >= 0x20 && errbuf[i] != 0x7f);
    return 0;
}
