// SPDX-License-Identifier: MIT
// test_headers.c -- tests that every public header compiles on its own.
// The work is done at build time by the generated header_alone_<area>.c
// files (see meson.build); running the program only confirms they linked.
#include <stdio.h>

#define AREAS(X) X(core) X(ts) X(http) X(ingest) X(channel) X(store) X(admin)

#define DECLARE(area) const char *header_alone_##area(void);
AREAS(DECLARE)

int main(void)
{
#define CALL(area) printf("%s compiles alone\n", header_alone_##area());
    AREAS(CALL)
    return 0;
}
