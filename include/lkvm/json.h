/* SPDX-License-Identifier: GPL-2.0-only */
/* A small streaming JSON writer for the machine-readable outputs. */
#ifndef LKVM_JSON_H
#define LKVM_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *f;
	int depth;
	bool need_comma;
};

/* Start writing to f; the caller opens the top-level object itself. */
void json_init(struct json *j, FILE *f);
/* key may be NULL inside arrays and at the top level. */
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *s);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);

#endif
