// SPDX-License-Identifier: MIT
// epg_private.h -- private to epg/: what the parser and the writer share.
#ifndef ANTENNE_EPG_PRIVATE_H
#define ANTENNE_EPG_PRIVATE_H

#include "epg/epg.h"

/* An xmltv_ns episode-num: three dot-separated parts, each "[N][/M]", with
 * spaces allowed around the numbers ("0 . 12/13 . 0/3", "1.0.", "..0/1"):
 * what tv_validate_file accepts. */
bool epg_episode_valid(const char *text);

#endif
