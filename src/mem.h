/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_MEM_H
#define TEMPUS_MEM_H

#include <stddef.h>

/* Allocation wrappers: they never return NULL; out of memory is fatal. */
void *mem_alloc(size_t size);
void *mem_zalloc(size_t size);
void *mem_calloc(size_t n, size_t size);
void *mem_realloc(void *p, size_t n, size_t size);
/* Room for element n of an array of n elements of size bytes that only
 * ever grows through this call: it reallocates when n is 0 or a power of
 * two, to twice n, so appending N elements costs O(log N) reallocations
 * (each of which may be a mremap(2) once the block is mmapped). */
void *mem_append(void *p, size_t n, size_t size);
char *mem_strdup(const char *s);

#endif
