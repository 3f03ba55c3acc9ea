/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_DRIFTFILE_H
#define TEMPUS_DRIFTFILE_H

/* The drift file keeps the clock's frequency error across restarts: one
 * line "FREQ SKEW", both in ppm (FREQ signed, SKEW its estimated error, not
 * negative). No daemon state here: read it once at start, write it now and
 * then while running and at exit. */

/* Largest |FREQ| and SKEW accepted, ppm: beyond it the file is corrupt or
 * belongs to a broken clock, and starting from zero is the better guess. */
#define DRIFTFILE_MAX_PPM 500.0

/* Read path into *ppm and *skew_ppm. Returns 0, or -1 if the file is missing
 * (logged at debug level: normal on first start) or unreadable or invalid:
 * not two finite numbers, anything but white space after them, or a value
 * out of range (logged as a warning). Outputs are untouched on failure. */
int driftfile_read(const char *path, double *ppm, double *skew_ppm);
/* Replace path atomically with the values: a temporary file in the same
 * directory (mode 0644) is written, synced and renamed over it, so readers
 * see the old content or the new, never a part. Returns 0, or -1 (logged)
 * with the old file left as it was and no temporary file behind. */
int driftfile_write(const char *path, double ppm, double skew_ppm);

#endif
