/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_SORT_H
#define TEMPUS_SORT_H

#include <stddef.h>

/* An in-place heapsort for the daemon's own arrays. Unlike glibc's qsort it
 * allocates nothing and makes no system call at any size (glibc's qsort
 * asks sysconf(_SC_PHYS_PAGES), that is sysinfo(2), for arrays of 1 KiB or
 * more, which runs after the seccomp filter is on), and it takes O(1)
 * extra memory and O(n log n) comparisons in the worst case. Not stable:
 * a comparator that must give one order breaks its own ties. */
void sort_heap(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif
