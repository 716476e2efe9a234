// SPDX-License-Identifier: MIT
// main.c -- antenne's entry point.
#include "app/app.h"

int main(int argc, char **argv) { return app_main(argc, argv); }
