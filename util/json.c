// SPDX-License-Identifier: GPL-2.0-only
/* A small streaming JSON writer: strings escaped per RFC 8259. */
#include <inttypes.h>

#include "lkvm/json.h"

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->need_comma = false;
}

static void json_escaped(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_key(struct json *j, const char *key)
{
	if (j->need_comma)
		fputc(',', j->f);
	j->need_comma = true;
	if (key) {
		json_escaped(j->f, key);
		fputc(':', j->f);
	}
}

void json_obj_begin(struct json *j, const char *key)
{
	json_key(j, key);
	fputc('{', j->f);
	j->depth++;
	j->need_comma = false;
}

void json_obj_end(struct json *j)
{
	fputc('}', j->f);
	j->depth--;
	j->need_comma = true;
	if (!j->depth)
		fputc('\n', j->f);
}

void json_arr_begin(struct json *j, const char *key)
{
	json_key(j, key);
	fputc('[', j->f);
	j->depth++;
	j->need_comma = false;
}

void json_arr_end(struct json *j)
{
	fputc(']', j->f);
	j->depth--;
	j->need_comma = true;
}

void json_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_escaped(j->f, s);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->f);
}
