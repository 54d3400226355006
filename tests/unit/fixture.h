/*
 * fixture.h — what every unit test shares: a fresh temporary directory per test case
 * (or per group), made under $TMPDIR (P_tmpdir when unset) and removed with everything
 * in it afterwards, and a command-line filter so that any one case can run alone.
 * Include after <cmocka.h>.
 */
#ifndef TPCD_TEST_FIXTURE_H
#define TPCD_TEST_FIXTURE_H

#include <sys/types.h>

/* cmocka setup/teardown: make and remove the directory (state is not used). */
int	fixture_setup(void **state);
int	fixture_teardown(void **state);
/* The directory of the running case; valid between setup and teardown. */
const char *fixture_dir(void);
/* dir/name; caller frees. */
char	*fixture_path(const char *name);
/* Writes text to dir/name with mode; the path, valid until the next call. */
const char *fixture_write(const char *name, const char *text, mode_t mode);
/* argv[1], when given, is a cmocka test filter ("test_blue_green", "test_throttle*"). */
void	fixture_args(int argc, char **argv);

#endif
