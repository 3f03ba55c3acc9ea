/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_MEM_H
#define TEMPUS_MEM_H

#include <stddef.h>

/* Allocation wrappers: they never return NULL; out of memory is fatal. */
void *mem_alloc(size_t size);
void *mem_zalloc(size_t size);
void *mem_calloc(size_t n, size_t size);
void *mem_realloc(void *p, size_t n, size_t size);
char *mem_strdup(const char *s);

#endif
