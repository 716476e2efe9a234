// SPDX-License-Identifier: MIT
// xmltv.c -- a streaming XMLTV parser over expat: one callback per
// <channel> and per <programme>, in bounded memory whatever the file size.
// Reference: XMLTV DTD 0.5 (xmltv.dtd); XML 1.0 (Fifth Edition).
//
// Invariants:
//  - Nothing of the document outlives its callback: a channel or programme
//    is gathered into fixed buffers (capped fields) and handed over at its
//    end tag; the next one reuses them.
//  - expat only ever holds one unfinished token beyond the chunk being
//    parsed; that token is capped (TOKEN_MAX), so are nesting depth and DTD
//    declarations, which are all expat itself keeps growing.
//  - The first error wins: handlers that expat still calls after
//    XML_StopParser() see `failed` and return at once.
#include "epg/epg_private.h"

#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#define ZLIB_CONST /* next_in points at const bytes */
#include <zlib.h>

#define CHUNK (64u * 1024u)
#define TOKEN_MAX (1024u * 1024u)   /* one tag, comment or PI */
#define DEPTH_MAX 64
#define DECLS_MAX 1000               /* <!ELEMENT>, <!ATTLIST>, <!NOTATION> in a DOCTYPE */

/* ---- times ----------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): plain arithmetic, no time zone database, no DST. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static bool leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int epg_time_parse(const char *text, int64_t *out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *s = text;
    while (xml_space(*s))
        s++;
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    if (n != 12 && n != 14)
        return -EINVAL;
    int y = digits(s, 4), mo = digits(s + 4, 2), d = digits(s + 6, 2);
    int h = digits(s + 8, 2), mi = digits(s + 10, 2), sec = n == 14 ? digits(s + 12, 2) : 0;
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
        return -EINVAL;
    if (d > mdays[mo - 1] + (mo == 2 && leap_year(y)))
        return -EINVAL;
    s += n;
    while (xml_space(*s))
        s++;
    int offset = 0;
    if (*s == '+' || *s == '-') {
        int oh = digits(s + 1, 2), om = digits(s + 3, 2);
        if (oh < 0 || om < 0 || oh > 23 || om > 59)
            return -EINVAL;
        offset = (oh * 60 + om) * 60 * (*s == '-' ? -1 : 1);
        s += 5;
    } else if (*s == 'Z') {
        s += 1;
    } else if (strncmp(s, "UTC", 3) == 0 || strncmp(s, "GMT", 3) == 0) {
        s += 3;
    }
    while (xml_space(*s))
        s++;
    if (*s)
        return -EINVAL; /* trailing junk, or a zone name we cannot place (CET, BST...) */
    int64_t days = days_from_civil(y, mo, d);
    *out = days * 86400 + h * 3600 + mi * 60 + sec - offset;
    return 0;
}

int epg_time_format(int64_t t, char *out, size_t out_size)
{
    if (out_size)
        out[0] = '\0';
    /* 0000-01-01 .. 9999-12-31 */
    if (t < -62167219200LL || t > 253402300799LL || out_size < 21)
        return -ERANGE;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t y, m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, out_size, "%04d%02d%02d%02d%02d%02d +0000", (int)y, (int)m, (int)d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
    return 0;
}

/* ---- input: raw bytes, gunzipped when they start with the gzip magic ------------ */

typedef struct input {
    int fd;                  /* -1: memory */
    const uint8_t *mem;
    size_t mem_size, mem_pos;
    uint8_t *buf;            /* fd reads land here */
    const uint8_t *raw;      /* bytes not yet decoded: buf, or the memory */
    size_t raw_len, raw_pos;
    bool raw_eof;
    bool started, gzip, gzip_done;
    z_stream z;
    bool z_ready;
    uint64_t bytes_in, bytes_out;
} input_t;

/* Makes raw bytes available at raw + raw_pos (raw_len - raw_pos of them);
 * returns 0 (none left only at EOF) or -EIO. */
static int input_refill(input_t *in, char *err, size_t err_size)
{
    if (in->raw_pos < in->raw_len || in->raw_eof)
        return 0;
    if (in->fd < 0) {
        in->raw = in->mem + in->mem_pos;
        in->raw_len = in->mem_size - in->mem_pos;
        in->raw_pos = 0;
        in->mem_pos = in->mem_size;
        in->raw_eof = true;
        in->bytes_in += in->raw_len;
        return 0;
    }
    for (;;) {
        ssize_t n = read(in->fd, in->buf, CHUNK);
        in->raw = in->buf;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            snprintf(err, err_size, "read error after %llu bytes: %s", (unsigned long long)in->bytes_in,
                     strerror(e));
            return -EIO;
        }
        in->raw_len = (size_t)n;
        in->raw_pos = 0;
        in->raw_eof = n == 0;
        in->bytes_in += (size_t)n;
        return 0;
    }
}

/* Whether the next raw bytes are the gzip magic. A read may have left only
 * its first byte: then the next one is read behind it. */
static int input_at_gzip_magic(input_t *in, char *err, size_t err_size)
{
    int rc = input_refill(in, err, err_size);
    if (rc < 0)
        return rc;
    if (in->fd >= 0 && in->raw_len - in->raw_pos == 1 && !in->raw_eof) {
        in->buf[0] = in->raw[in->raw_pos];
        in->raw = in->buf;
        in->raw_pos = 0;
        in->raw_len = 1;
        ssize_t n;
        do
            n = read(in->fd, in->buf + 1, CHUNK - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            snprintf(err, err_size, "read error after %llu bytes: %s", (unsigned long long)in->bytes_in,
                     strerror(errno));
            return -EIO;
        }
        in->raw_len += (size_t)n;
        in->raw_eof = n == 0;
        in->bytes_in += (size_t)n;
    }
    return in->raw_len - in->raw_pos >= 2 && in->raw[in->raw_pos] == 0x1f && in->raw[in->raw_pos + 1] == 0x8b;
}

/* Fills buf with up to cap decoded bytes; returns how many (0: the end) or
 * a negative errno with a message. */
static int input_read(input_t *in, uint8_t *buf, size_t cap, char *err, size_t err_size)
{
    int rc;
    if (!in->started) {
        in->started = true;
        if ((rc = input_at_gzip_magic(in, err, err_size)) < 0)
            return rc;
        if (rc) {
            in->gzip = true;
            if (inflateInit2(&in->z, 16 + MAX_WBITS) != Z_OK) {
                snprintf(err, err_size, "out of memory for gunzip");
                return -ENOMEM;
            }
            in->z_ready = true;
        }
    }
    if (!in->gzip) {
        if ((rc = input_refill(in, err, err_size)) < 0)
            return rc;
        size_t n = MIN(cap, in->raw_len - in->raw_pos);
        memcpy(buf, in->raw + in->raw_pos, n);
        in->raw_pos += n;
        in->bytes_out += n;
        return (int)n;
    }
    while (!in->gzip_done) {
        if ((rc = input_refill(in, err, err_size)) < 0)
            return rc;
        in->z.next_in = in->raw + in->raw_pos;
        in->z.avail_in = (uInt)MIN(in->raw_len - in->raw_pos, (size_t)UINT32_MAX);
        in->z.next_out = buf;
        in->z.avail_out = (uInt)cap;
        int zrc = inflate(&in->z, Z_NO_FLUSH);
        size_t produced = cap - in->z.avail_out;
        in->raw_pos = (size_t)(in->z.next_in - in->raw);
        if (zrc == Z_STREAM_END) {
            /* Another member may follow (cat a.gz b.gz); anything else
             * after the end is ignored, as gzip -d and gzread do. */
            if ((rc = input_at_gzip_magic(in, err, err_size)) < 0)
                return rc;
            if (rc)
                inflateReset(&in->z);
            else
                in->gzip_done = true;
        } else if (zrc == Z_BUF_ERROR || (zrc == Z_OK && produced == 0)) {
            if (in->raw_eof && in->raw_pos == in->raw_len) {
                snprintf(err, err_size, "the gzip data ends early (truncated file?) after %llu bytes",
                         (unsigned long long)in->bytes_in);
                return -EINVAL;
            }
        } else if (zrc != Z_OK) {
            snprintf(err, err_size, "the gzip data is corrupt at byte %llu: %s",
                     (unsigned long long)(in->bytes_in - (in->raw_len - in->raw_pos)),
                     in->z.msg ? in->z.msg : "inflate failed");
            return zrc == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
        }
        if (produced > 0) {
            in->bytes_out += produced;
            return (int)produced;
        }
    }
    return 0;
}

/* ---- the parser -------------------------------------------------------------------- */

typedef struct text {
    size_t len;
    bool set;
    char data[EPG_TEXT_MAX + 1];
} text_t;

typedef struct id_text {
    size_t len;
    char data[EPG_ID_MAX + 1];
} id_text_t;

typedef enum state {
    IN_NOTHING,
    IN_CHANNEL,
    IN_PROGRAMME,
} state_t;

typedef struct parser {
    XML_Parser xml;
    const epg_xmltv_handler_t *handler;
    epg_xmltv_stats_t *stats;
    char *err;
    size_t err_size;
    int rc;                 /* first error; 0 while all is well */
    bool failed;

    unsigned depth;
    state_t state;
    unsigned long open_line[4];        /* where the elements at depth 1..3 opened */
    char open_name[4][16];
    unsigned long item_line, item_col; /* where the current channel/programme opened */
    unsigned decls;
    char encoding[48];                 /* declared, for messages */
    char unknown_encoding[48];

    /* Text being gathered: the element at capture_depth. */
    char *capture;
    size_t *capture_len;
    bool *capture_set;
    size_t capture_max;
    unsigned capture_depth;
    const char *capture_what;

    /* The current channel. */
    id_text_t ch_id;
    text_t ch_names[EPG_NAMES_MAX];
    char ch_langs[EPG_NAMES_MAX][EPG_LANG_MAX + 1];
    bool ch_has_lang[EPG_NAMES_MAX];
    size_t ch_name_count;
    text_t ch_icon;

    /* The current programme. */
    id_text_t pr_channel;
    int64_t pr_start, pr_stop;
    bool pr_has_stop;
    text_t pr_title, pr_subtitle, pr_desc, pr_category, pr_episode, pr_icon;
} parser_t;

/* Records the first error at the given place and stops expat. */
__attribute__((format(printf, 5, 6))) static void fail_at(parser_t *p, int rc, unsigned long line, unsigned long col,
                                                          const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    p->rc = rc;
    int n = line ? snprintf(p->err, p->err_size, "line %lu, column %lu: ", line, col) : 0;
    if (n >= 0 && (size_t)n < p->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->err_size - (size_t)n, fmt, ap);
        va_end(ap);
    }
    XML_StopParser(p->xml, XML_FALSE);
}

#define FAIL(p, ...)                                                                                                   \
    fail_at(p, -EINVAL, (unsigned long)XML_GetCurrentLineNumber((p)->xml),                                             \
            (unsigned long)XML_GetCurrentColumnNumber((p)->xml) + 1, __VA_ARGS__)

/* A value for a message: at most 60 bytes, cut on a character boundary. */
static const char *quote(const char *value, char *buf, size_t size)
{
    size_t n = strlen(value);
    if (n < size && n <= 60)
        return value;
    n = MIN(size - 4, (size_t)60);
    while (n > 0 && ((unsigned char)value[n] & 0xC0) == 0x80)
        n--;
    memcpy(buf, value, n);
    memcpy(buf + n, "...", 4);
    return buf;
}

static const char *attr(const XML_Char **atts, const char *name)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], name) == 0)
            return atts[i + 1];
    return NULL;
}

/* Copies a trimmed attribute value into a capped buffer; false (after
 * failing) when it is too long. */
static bool copy_attr(parser_t *p, char *dst, size_t max, size_t *len, const char *value, const char *what)
{
    while (xml_space(*value))
        value++;
    size_t n = strlen(value);
    while (n > 0 && xml_space(value[n - 1]))
        n--;
    if (n > max) {
        FAIL(p, "%s is longer than %zu bytes", what, max);
        return false;
    }
    memcpy(dst, value, n);
    dst[n] = '\0';
    if (len)
        *len = n;
    return true;
}

static void on_text(void *data, const XML_Char *s, int len)
{
    parser_t *p = data;
    if (p->failed || !p->capture || p->depth != p->capture_depth)
        return;
    if (*p->capture_len + (size_t)len > p->capture_max) {
        FAIL(p, "%s is longer than %zu bytes", p->capture_what, p->capture_max);
        return;
    }
    memcpy(p->capture + *p->capture_len, s, (size_t)len);
    *p->capture_len += (size_t)len;
    p->capture[*p->capture_len] = '\0';
}

static void capture_start(parser_t *p, text_t *t, const char *what)
{
    t->len = 0;
    t->data[0] = '\0';
    p->capture = t->data;
    p->capture_len = &t->len;
    p->capture_set = &t->set;
    p->capture_max = EPG_TEXT_MAX;
    p->capture_depth = p->depth;
    p->capture_what = what;
    /* Text is reported only while there is some to keep: expat then skips
     * the rest (indentation, credits...) without calling us. */
    XML_SetCharacterDataHandler(p->xml, on_text);
}

/* Trims the gathered text; an element with only whitespace counts as absent. */
static void capture_end(parser_t *p)
{
    char *s = p->capture;
    size_t n = *p->capture_len, start = 0;
    while (n > 0 && xml_space(s[n - 1]))
        n--;
    while (start < n && xml_space(s[start]))
        start++;
    if (start > 0) {
        memmove(s, s + start, n - start);
        n -= start;
    }
    s[n] = '\0';
    *p->capture_len = n;
    *p->capture_set = n > 0;
    p->capture = NULL;
    XML_SetCharacterDataHandler(p->xml, NULL);
}

static void channel_start(parser_t *p, const XML_Char **atts)
{
    p->state = IN_CHANNEL;
    p->item_line = (unsigned long)XML_GetCurrentLineNumber(p->xml);
    p->item_col = (unsigned long)XML_GetCurrentColumnNumber(p->xml) + 1;
    p->ch_name_count = 0;
    p->ch_icon.set = false;
    const char *id = attr(atts, "id");
    if (!copy_attr(p, p->ch_id.data, EPG_ID_MAX, &p->ch_id.len, id ? id : "", "channel id"))
        return;
    if (p->ch_id.len == 0)
        FAIL(p, "channel has no id");
}

static void programme_time(parser_t *p, const XML_Char **atts, const char *name, int64_t *out, bool *has)
{
    const char *value = attr(atts, name);
    *has = value != NULL;
    if (!value)
        return;
    if (epg_time_parse(value, out) != 0) {
        char buf[64];
        FAIL(p, "programme %s '%s' is not an XMLTV time (YYYYMMDDhhmmss +hhmm)", name, quote(value, buf, sizeof(buf)));
    }
}

static void programme_start(parser_t *p, const XML_Char **atts)
{
    p->state = IN_PROGRAMME;
    p->item_line = (unsigned long)XML_GetCurrentLineNumber(p->xml);
    p->item_col = (unsigned long)XML_GetCurrentColumnNumber(p->xml) + 1;
    text_t *texts[] = {&p->pr_title, &p->pr_subtitle, &p->pr_desc, &p->pr_category, &p->pr_episode, &p->pr_icon};
    for (size_t i = 0; i < ARRAY_SIZE(texts); i++)
        texts[i]->set = false;
    const char *channel = attr(atts, "channel");
    if (!copy_attr(p, p->pr_channel.data, EPG_ID_MAX, &p->pr_channel.len, channel ? channel : "",
                   "programme channel"))
        return;
    if (p->pr_channel.len == 0) {
        FAIL(p, "programme has no channel");
        return;
    }
    bool has_start;
    programme_time(p, atts, "start", &p->pr_start, &has_start);
    if (p->failed)
        return;
    if (!has_start) {
        FAIL(p, "programme has no start");
        return;
    }
    programme_time(p, atts, "stop", &p->pr_stop, &p->pr_has_stop);
    if (p->failed)
        return;
    if (p->pr_has_stop && p->pr_stop < p->pr_start) {
        char a[21], b[21];
        epg_time_format(p->pr_start, a, sizeof(a));
        epg_time_format(p->pr_stop, b, sizeof(b));
        FAIL(p, "programme stop (%s) is before its start (%s)", b, a);
    }
}

/* An icon's src, trimmed and capped. */
static void icon_src(parser_t *p, text_t *t, const XML_Char **atts, const char *what)
{
    const char *src = attr(atts, "src");
    if (t->set || !src)
        return;
    if (copy_attr(p, t->data, EPG_TEXT_MAX, &t->len, src, what))
        t->set = t->len > 0;
}

static void on_start(void *data, const XML_Char *name, const XML_Char **atts)
{
    parser_t *p = data;
    if (p->failed)
        return;
    if (++p->depth > DEPTH_MAX) {
        FAIL(p, "elements are nested more than %d deep", DEPTH_MAX);
        return;
    }
    if (p->depth < ARRAY_SIZE(p->open_line)) {
        p->open_line[p->depth] = (unsigned long)XML_GetCurrentLineNumber(p->xml);
        size_t n = strnlen(name, sizeof(p->open_name[0]) - 1);
        memcpy(p->open_name[p->depth], name, n);
        p->open_name[p->depth][n] = '\0';
    }
    if (p->depth == 1) {
        if (strcmp(name, "tv") != 0) {
            char buf[64];
            FAIL(p, "the root element is <%s>, not <tv>: this is not an XMLTV file", quote(name, buf, sizeof(buf)));
        }
        return;
    }
    if (p->depth == 2) {
        if (strcmp(name, "programme") == 0)
            programme_start(p, atts);
        else if (strcmp(name, "channel") == 0)
            channel_start(p, atts);
        else
            p->state = IN_NOTHING;
        return;
    }
    if (p->depth != 3 || p->state == IN_NOTHING)
        return;
    if (p->state == IN_CHANNEL) {
        if (strcmp(name, "display-name") == 0 && p->ch_name_count < EPG_NAMES_MAX) {
            size_t i = p->ch_name_count++;
            const char *lang = attr(atts, "lang");
            size_t lang_len = 0;
            if (lang && !copy_attr(p, p->ch_langs[i], EPG_LANG_MAX, &lang_len, lang, "display-name lang"))
                return;
            p->ch_has_lang[i] = lang_len > 0;
            capture_start(p, &p->ch_names[i], "channel display-name");
        } else if (strcmp(name, "icon") == 0) {
            icon_src(p, &p->ch_icon, atts, "channel icon src");
        }
        return;
    }
    /* In a programme: of each element, the first one counts. */
    if (strcmp(name, "title") == 0) {
        if (!p->pr_title.set)
            capture_start(p, &p->pr_title, "programme title");
    } else if (strcmp(name, "sub-title") == 0) {
        if (!p->pr_subtitle.set)
            capture_start(p, &p->pr_subtitle, "programme sub-title");
    } else if (strcmp(name, "desc") == 0) {
        if (!p->pr_desc.set)
            capture_start(p, &p->pr_desc, "programme desc");
    } else if (strcmp(name, "category") == 0) {
        if (!p->pr_category.set)
            capture_start(p, &p->pr_category, "programme category");
    } else if (strcmp(name, "episode-num") == 0) {
        const char *system = attr(atts, "system");
        if (!p->pr_episode.set && system && strcmp(system, "xmltv_ns") == 0)
            capture_start(p, &p->pr_episode, "programme episode-num");
    } else if (strcmp(name, "icon") == 0) {
        icon_src(p, &p->pr_icon, atts, "programme icon src");
    }
}

bool epg_episode_valid(const char *s)
{
    for (int part = 0; part < 3; part++) {
        while (*s == ' ')
            s++;
        while (isdigit((unsigned char)*s))
            s++;
        while (*s == ' ')
            s++;
        if (*s == '/') {
            s++;
            while (*s == ' ')
                s++;
            if (!isdigit((unsigned char)*s))
                return false;
            while (isdigit((unsigned char)*s))
                s++;
            while (*s == ' ')
                s++;
        }
        if (part < 2 && *s++ != '.')
            return false;
    }
    return *s == '\0';
}

static const char *opt(const text_t *t)
{
    return t->set ? t->data : NULL;
}

static void channel_end(parser_t *p)
{
    epg_channel_t c = {.id = p->ch_id.data, .name_count = 0, .icon = opt(&p->ch_icon)};
    for (size_t i = 0; i < p->ch_name_count; i++) {
        if (!p->ch_names[i].set)
            continue;
        c.names[c.name_count] = p->ch_names[i].data;
        c.langs[c.name_count] = p->ch_has_lang[i] ? p->ch_langs[i] : NULL;
        c.name_count++;
    }
    p->stats->channels++;
    if (!p->handler || !p->handler->channel)
        return;
    char msg[256] = "";
    int rc = p->handler->channel(p->handler->ctx, &c, msg, sizeof(msg));
    if (rc != 0)
        fail_at(p, rc < 0 ? rc : -ECANCELED, p->item_line, p->item_col, "channel '%s': %s", c.id,
                msg[0] ? msg : "refused by the caller");
}

static void programme_end(parser_t *p)
{
    if (!p->pr_title.set) {
        fail_at(p, -EINVAL, p->item_line, p->item_col, "programme of channel '%s' has no title", p->pr_channel.data);
        return;
    }
    epg_programme_t e = {
        .p = {
            .channel = p->pr_channel.data,
            .start = p->pr_start,
            .stop = p->pr_has_stop ? p->pr_stop : 0,
            .title = p->pr_title.data,
            .subtitle = opt(&p->pr_subtitle),
            .description = opt(&p->pr_desc),
            .category = opt(&p->pr_category),
            .episode = p->pr_episode.set && epg_episode_valid(p->pr_episode.data) ? p->pr_episode.data : NULL,
            .icon = opt(&p->pr_icon),
        },
        .has_stop = p->pr_has_stop,
    };
    p->stats->programmes++;
    if (!p->handler || !p->handler->programme)
        return;
    char msg[256] = "";
    int rc = p->handler->programme(p->handler->ctx, &e, msg, sizeof(msg));
    if (rc != 0)
        fail_at(p, rc < 0 ? rc : -ECANCELED, p->item_line, p->item_col, "programme of channel '%s': %s",
                e.p.channel, msg[0] ? msg : "refused by the caller");
}

static void on_end(void *data, const XML_Char *name)
{
    parser_t *p = data;
    (void)name; /* expat has checked that it matches */
    if (p->failed)
        return;
    if (p->capture && p->depth == p->capture_depth)
        capture_end(p);
    if (p->depth == 2) {
        if (p->state == IN_CHANNEL)
            channel_end(p);
        else if (p->state == IN_PROGRAMME)
            programme_end(p);
        p->state = IN_NOTHING;
    }
    p->depth--;
}

static void on_xml_decl(void *data, const XML_Char *version, const XML_Char *encoding, int standalone)
{
    parser_t *p = data;
    (void)version, (void)standalone;
    if (encoding)
        snprintf(p->encoding, sizeof(p->encoding), "%s", encoding);
}

static void on_entity_decl(void *data, const XML_Char *name, int is_parameter, const XML_Char *value, int value_length,
                           const XML_Char *base, const XML_Char *system_id, const XML_Char *public_id,
                           const XML_Char *notation)
{
    parser_t *p = data;
    (void)value, (void)value_length, (void)base, (void)system_id, (void)public_id, (void)notation;
    if (p->failed)
        return;
    char buf[64];
    FAIL(p, "entity declarations are refused (<!ENTITY %s%s>): XMLTV needs none, and they allow expansion attacks",
         is_parameter ? "% " : "", quote(name, buf, sizeof(buf)));
}

static void on_skipped_entity(void *data, const XML_Char *name, int is_parameter)
{
    parser_t *p = data;
    if (p->failed)
        return;
    char buf[64];
    FAIL(p, "entity '%s%s;' is not defined (only &amp; &lt; &gt; &quot; &apos; and &#N; are)",
         is_parameter ? "%" : "&", quote(name, buf, sizeof(buf)));
}

static void count_decl(parser_t *p)
{
    if (!p->failed && ++p->decls > DECLS_MAX)
        FAIL(p, "more than %d declarations in the DOCTYPE", DECLS_MAX);
}

static void on_element_decl(void *data, const XML_Char *name, XML_Content *model)
{
    parser_t *p = data;
    (void)name;
    XML_FreeContentModel(p->xml, model);
    count_decl(p);
}

static void on_attlist_decl(void *data, const XML_Char *elname, const XML_Char *attname, const XML_Char *att_type,
                            const XML_Char *dflt, int isrequired)
{
    (void)elname, (void)attname, (void)att_type, (void)dflt, (void)isrequired;
    count_decl(data);
}

static void on_notation_decl(void *data, const XML_Char *name, const XML_Char *base, const XML_Char *system_id,
                             const XML_Char *public_id)
{
    (void)name, (void)base, (void)system_id, (void)public_id;
    count_decl(data);
}

/* ---- single-byte encodings expat does not know ------------------------------------- */

/* ISO-8859-15 is ISO-8859-1 but for eight code points. */
static const struct {
    uint8_t byte;
    uint16_t code;
} latin9[] = {{0xA4, 0x20AC}, {0xA6, 0x0160}, {0xA8, 0x0161}, {0xB4, 0x017D},
              {0xB8, 0x017E}, {0xBC, 0x0152}, {0xBD, 0x0153}, {0xBE, 0x0178}};

/* windows-1252 0x80-0x9F; 0 where the byte is undefined. */
static const uint16_t cp1252[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

static int on_unknown_encoding(void *data, const XML_Char *name, XML_Encoding *info)
{
    parser_t *p = data;
    bool is_latin9 = strcasecmp(name, "ISO-8859-15") == 0 || strcasecmp(name, "ISO8859-15") == 0 ||
                     strcasecmp(name, "latin-9") == 0 || strcasecmp(name, "latin9") == 0;
    bool is_1252 = strcasecmp(name, "windows-1252") == 0 || strcasecmp(name, "cp1252") == 0;
    if (!is_latin9 && !is_1252) {
        snprintf(p->unknown_encoding, sizeof(p->unknown_encoding), "%s", name);
        return XML_STATUS_ERROR;
    }
    for (int i = 0; i < 256; i++)
        info->map[i] = i;
    if (is_latin9) {
        for (size_t i = 0; i < ARRAY_SIZE(latin9); i++)
            info->map[latin9[i].byte] = latin9[i].code;
    } else {
        for (int i = 0; i < 32; i++)
            info->map[0x80 + i] = cp1252[i] ? cp1252[i] : -1;
    }
    info->data = NULL;
    info->convert = NULL;
    info->release = NULL;
    return XML_STATUS_OK;
}

/* ---- driving it ---------------------------------------------------------------------- */

/* Turns expat's own error into ours, with hints where expat's words are terse. */
static void expat_error(parser_t *p)
{
    enum XML_Error code = XML_GetErrorCode(p->xml);
    unsigned long line = (unsigned long)XML_GetCurrentLineNumber(p->xml);
    unsigned long col = (unsigned long)XML_GetCurrentColumnNumber(p->xml) + 1;
    const char *what = XML_ErrorString(code);
    switch (code) {
    case XML_ERROR_UNKNOWN_ENCODING:
        fail_at(p, -EINVAL, line, col,
                "encoding '%s' is not supported (UTF-8, UTF-16, ISO-8859-1, ISO-8859-15, windows-1252 and US-ASCII are)",
                p->unknown_encoding[0] ? p->unknown_encoding : "?");
        break;
    case XML_ERROR_INCORRECT_ENCODING:
        fail_at(p, -EINVAL, line, col, "the encoding declared (%s) is not the file's (a UTF-16 byte order mark?)",
                p->encoding[0] ? p->encoding : "?");
        break;
    case XML_ERROR_INVALID_TOKEN:
        fail_at(p, -EINVAL, line, col, "not well-formed: a character that cannot be here, or bytes that are not %s",
                p->encoding[0] ? p->encoding : "UTF-8");
        break;
    case XML_ERROR_NO_ELEMENTS:
    case XML_ERROR_UNCLOSED_TOKEN:
    case XML_ERROR_PARTIAL_CHAR:
    case XML_ERROR_UNCLOSED_CDATA_SECTION:
        if (p->depth >= 1) {
            unsigned d = MIN(p->depth, (unsigned)ARRAY_SIZE(p->open_line) - 1);
            fail_at(p, -EINVAL, line, col, "the file ends inside <%s> opened at line %lu (truncated, or a tag not closed)",
                    p->open_name[d], p->open_line[d]);
        } else {
            fail_at(p, -EINVAL, line, col, "%s (empty or truncated file?)", what);
        }
        break;
    default:
        fail_at(p, -EINVAL, line, col, "%s", what);
        break;
    }
}

static int parse(input_t *in, const epg_xmltv_handler_t *handler, epg_xmltv_stats_t *stats, char *err,
                 size_t err_size)
{
    epg_xmltv_stats_t local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    if (err_size)
        err[0] = '\0';
    parser_t *p = calloc(1, sizeof(*p));
    XML_Parser xml = p ? XML_ParserCreate(NULL) : NULL;
    if (!xml) {
        free(p);
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    p->xml = xml;
    p->handler = handler;
    p->stats = stats;
    p->err = err;
    p->err_size = err_size;
    XML_SetUserData(xml, p);
    XML_SetElementHandler(xml, on_start, on_end);
    XML_SetXmlDeclHandler(xml, on_xml_decl);
    XML_SetEntityDeclHandler(xml, on_entity_decl);
    XML_SetSkippedEntityHandler(xml, on_skipped_entity);
    XML_SetElementDeclHandler(xml, on_element_decl);
    XML_SetAttlistDeclHandler(xml, on_attlist_decl);
    XML_SetNotationDeclHandler(xml, on_notation_decl);
    XML_SetUnknownEncodingHandler(xml, on_unknown_encoding, p);
    /* The default; said here because it is what keeps external DTDs and
     * entities from ever being loaded (no external entity handler either). */
    XML_SetParamEntityParsing(xml, XML_PARAM_ENTITY_PARSING_NEVER);

    char read_err[200] = "";
    for (;;) {
        void *buf = XML_GetBuffer(xml, CHUNK);
        if (!buf) {
            fail_at(p, -ENOMEM, 0, 0, "out of memory");
            break;
        }
        int n = input_read(in, buf, CHUNK, read_err, sizeof(read_err));
        if (n < 0) {
            unsigned long line = (unsigned long)XML_GetCurrentLineNumber(xml);
            fail_at(p, n, line, (unsigned long)XML_GetCurrentColumnNumber(xml) + 1, "%s", read_err);
            break;
        }
        if (XML_ParseBuffer(xml, n, n == 0) != XML_STATUS_OK) {
            if (!p->failed)
                expat_error(p);
            break;
        }
        /* Whatever expat has not parsed yet is one unfinished token. */
        XML_Index at = XML_GetCurrentByteIndex(xml);
        if (n > 0 && at >= 0 && in->bytes_out - (uint64_t)at > TOKEN_MAX + CHUNK) {
            FAIL(p, "a single tag, comment or declaration is longer than %u bytes", TOKEN_MAX);
            break;
        }
        if (n == 0)
            break;
    }
    stats->bytes_in = in->bytes_in;
    stats->bytes_xml = in->bytes_out;
    int rc = p->failed ? p->rc : 0;
    XML_ParserFree(xml);
    free(p);
    return rc;
}

static int parse_input(input_t *in, const epg_xmltv_handler_t *handler, epg_xmltv_stats_t *stats, char *err,
                       size_t err_size)
{
    int rc = parse(in, handler, stats, err, err_size);
    if (in->z_ready)
        inflateEnd(&in->z);
    return rc;
}

int epg_xmltv_parse_fd(int fd, const epg_xmltv_handler_t *handler, epg_xmltv_stats_t *stats, char *err,
                       size_t err_size)
{
    input_t in = {.fd = fd};
    in.buf = malloc(CHUNK);
    if (!in.buf) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    int rc = parse_input(&in, handler, stats, err, err_size);
    free(in.buf);
    return rc;
}

int epg_xmltv_parse_mem(const void *data, size_t size, const epg_xmltv_handler_t *handler, epg_xmltv_stats_t *stats,
                        char *err, size_t err_size)
{
    input_t in = {.fd = -1, .mem = data, .mem_size = size};
    return parse_input(&in, handler, stats, err, err_size);
}
