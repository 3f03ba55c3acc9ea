/* SPDX-License-Identifier: ISC */
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void *mem_alloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        fatalx("out of memory (%zu bytes)", size);
    return p;
}

void *mem_zalloc(size_t size)
{
    return mem_calloc(1, size);
}

void *mem_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        fatalx("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void *mem_realloc(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        fatalx("allocation overflow (%zu x %zu bytes)", n, size);
    size_t total = n * size;
    p = realloc(p, total ? total : 1);
    if (!p)
        fatalx("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void *mem_append(void *p, size_t n, size_t size)
{
    if (n == 0)
        return mem_realloc(p, 1, size);
    if ((n & (n - 1)) != 0)
        return p;
    if (n > SIZE_MAX / 2)
        fatalx("allocation overflow (%zu x %zu bytes)", n, size);
    return mem_realloc(p, 2 * n, size);
}

char *mem_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(mem_alloc(n), s, n);
}
