// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for util/json.c: nesting, commas, escaping. */
#include <stdlib.h>

#include "lkvm/json.h"
#include "unit.h"

static void test_nesting_and_escaping(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_u64(&j, "n", 18446744073709551615ULL);
	json_str(&j, "s", "a\"b\\c\n\x01");
	json_arr_begin(&j, "a");
	json_bool(&j, NULL, true);
	json_null(&j, NULL);
	json_obj_begin(&j, NULL);
	json_obj_end(&j);
	json_arr_end(&j);
	json_obj_begin(&j, "o");
	json_bool(&j, "f", false);
	json_obj_end(&j);
	json_obj_end(&j);
	fclose(f);
	CHECK_STR(buf, "{\"n\":18446744073709551615,"
		       "\"s\":\"a\\\"b\\\\c\\u000a\\u0001\","
		       "\"a\":[true,null,{}],\"o\":{\"f\":false}}\n");
	free(buf);
}

UNIT_SUITE(json, UNIT_TEST(test_nesting_and_escaping));
