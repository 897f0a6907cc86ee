/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of gpuvm_err_name() and gpuvm_strerror(): every code the public
 * headers document, 0, unknown codes, both signs and the extremes of int.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <cmocka.h>

#include <gpuvm.h>

#include "test_util.h"

/*
 * The codes the public headers document as returns; EAGAIN and EPERM come
 * through gpuvm_gem_init() from pthread_mutex_init().
 */
static const struct {
	int err;
	const char *name;
} documented[] = {
	{ EINVAL, "EINVAL" },
	{ EEXIST, "EEXIST" },
	{ EBUSY, "EBUSY" },
	{ ENOENT, "ENOENT" },
	{ ENOMEM, "ENOMEM" },
	{ EUCLEAN, "EUCLEAN" },
	{ EAGAIN, "EAGAIN" },
	{ EPERM, "EPERM" },
};

#define NDOC (sizeof(documented) / sizeof(documented[0]))

static void names_of_documented_codes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NDOC; i++) {
		int e = documented[i].err;

		assert_string_equal(gpuvm_err_name(-e), documented[i].name);
		/* positive input is accepted */
		assert_string_equal(gpuvm_err_name(e), documented[i].name);
		/* static: the same string each time */
		assert_ptr_equal(gpuvm_err_name(-e), gpuvm_err_name(-e));
		assert_ptr_equal(gpuvm_err_name(-e), gpuvm_err_name(e));
	}
	assert_string_equal(gpuvm_err_name(0), "OK");
}

static void texts_of_documented_codes(void **state)
{
	const char *unknown = gpuvm_strerror(-100000);

	(void)state;
	assert_non_null(unknown);
	assert_true(unknown[0] != '\0');
	for (size_t i = 0; i < NDOC; i++) {
		int e = documented[i].err;
		const char *t = gpuvm_strerror(-e);

		assert_non_null(t);
		assert_true(strlen(t) > 3);
		/* one line */
		assert_null(strchr(t, '\n'));
		assert_string_equal(gpuvm_strerror(e), t);
		assert_ptr_equal(gpuvm_strerror(e), t);
		/* a known code has its own text, not the unknown one */
		assert_string_not_equal(t, unknown);
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(t, gpuvm_strerror(-documented[k].err));
	}
	assert_non_null(gpuvm_strerror(0));
	assert_string_not_equal(gpuvm_strerror(0), unknown);
	for (size_t i = 0; i < NDOC; i++)
		assert_string_not_equal(gpuvm_strerror(0), gpuvm_strerror(documented[i].err));
}

static void unknown_codes(void **state)
{
	const int unknown[] = { 100000, -100000, 4095, -4095, 9999, INT_MAX, -INT_MAX,
				INT_MIN + 1 };

	(void)state;
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		const char *name = gpuvm_err_name(unknown[i]);
		const char *text = gpuvm_strerror(unknown[i]);

		assert_non_null(name);
		assert_non_null(text);
		assert_string_equal(name, "EUNKNOWN");
		assert_true(text[0] != '\0');
		assert_string_equal(text, gpuvm_strerror(-100000));
	}
}

/* Every errno value either has its own name or is EUNKNOWN; never NULL. */
static void all_small_codes(void **state)
{
	(void)state;
	for (int e = -300; e <= 300; e++) {
		const char *name = gpuvm_err_name(e);
		const char *text = gpuvm_strerror(e);

		assert_non_null(name);
		assert_non_null(text);
		assert_true(name[0] != '\0');
		assert_true(text[0] != '\0');
		assert_string_equal(name, gpuvm_err_name(-e));
		assert_string_equal(text, gpuvm_strerror(-e));
		if (e != 0 && strcmp(name, "EUNKNOWN")) {
			/* a real name looks like one: "E" and capitals/digits */
			assert_int_equal(name[0], 'E');
			for (const char *p = name; *p; p++)
				assert_true((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'));
		}
	}
}

/* The names and texts do not depend on the locale or on errno. */
static void no_side_effects(void **state)
{
	(void)state;
	errno = 1234;
	assert_string_equal(gpuvm_err_name(-EINVAL), "EINVAL");
	(void)gpuvm_strerror(-EINVAL);
	(void)gpuvm_strerror(-99999);
	assert_int_equal(errno, 1234);
	errno = 0;
}

/*
 * INT_MIN has no positive counterpart: "positive is accepted" must not turn
 * into a blind negation (undefined behaviour). Last, because under UBSan a
 * failure here ends the program.
 */
static void int_min(void **state)
{
	(void)state;
	assert_string_equal(gpuvm_err_name(INT_MIN), "EUNKNOWN");
	assert_string_equal(gpuvm_strerror(INT_MIN), gpuvm_strerror(-100000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_of_documented_codes),
		cmocka_unit_test(texts_of_documented_codes),
		cmocka_unit_test(unknown_codes),
		cmocka_unit_test(all_small_codes),
		cmocka_unit_test(no_side_effects),
		cmocka_unit_test(int_min),
	};

	return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
