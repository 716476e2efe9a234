// SPDX-License-Identifier: MIT
// app_private.h -- private to app/: what the server and the CLI share.
#ifndef ANTENNE_APP_PRIVATE_H
#define ANTENNE_APP_PRIVATE_H

#include "app/app.h"
#include "store/store.h"

/* How channels are stored: the channel field table in the "channels" table. */
const store_kind_t *app_channel_kind(void);

#endif
