/*
 * A deliberately tiny unit-test harness for host tests.
 *
 * Every test binary prints one line per case, "PASS: name" or "FAIL: name: why",
 * which tests/run counts. A binary that dies without finishing its cases is
 * counted as a failure by the runner, so a crash cannot look like success.
 */
#ifndef TESTS_HOST_CHECK_H
#define TESTS_HOST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_case_failed;
static const char *check_case_name;

#define CHECK(cond)                                                                \
	do {                                                                       \
		if (!(cond)) {                                                     \
			if (!check_case_failed)                                    \
				printf("FAIL: %s: %s:%d: %s\n", check_case_name,   \
				       __FILE__, __LINE__, #cond);                 \
			check_case_failed = 1;                                     \
		}                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                             \
	do {                                                                       \
		unsigned long long check_a_ = (unsigned long long)(a);             \
		unsigned long long check_b_ = (unsigned long long)(b);             \
		if (check_a_ != check_b_) {                                        \
			if (!check_case_failed)                                    \
				printf("FAIL: %s: %s:%d: %s == %#llx, expected %#llx\n", \
				       check_case_name, __FILE__, __LINE__, #a,    \
				       check_a_, check_b_);                        \
			check_case_failed = 1;                                     \
		}                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                            \
	do {                                                                       \
		const char *check_a_ = (a), *check_b_ = (b);                       \
		if (!check_a_ || strcmp(check_a_, check_b_) != 0) {                \
			if (!check_case_failed)                                    \
				printf("FAIL: %s: %s:%d: %s is \"%s\", expected \"%s\"\n", \
				       check_case_name, __FILE__, __LINE__, #a,    \
				       check_a_ ? check_a_ : "(null)", check_b_);  \
			check_case_failed = 1;                                     \
		}                                                                  \
	} while (0)

#define RUN(fn)                                                                    \
	do {                                                                       \
		check_case_name = #fn;                                             \
		check_case_failed = 0;                                             \
		fn();                                                              \
		if (check_case_failed)                                             \
			check_failures++;                                          \
		else                                                               \
			printf("PASS: %s\n", #fn);                                 \
	} while (0)

#define CHECK_DONE() (check_failures ? 1 : 0)

#endif
