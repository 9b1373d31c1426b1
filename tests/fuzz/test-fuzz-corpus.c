/* Replays every input under tests/fuzz/corpus-dicom (seeds and inputs that
 * once crashed the fuzzer) through the fuzz entry: none may crash. */
#include <glib.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *corpus;

static void test_replay(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open(corpus, 0, &error);
  g_assert_no_error(error);
  guint n = 0;
  for (const char *name; (name = g_dir_read_name(dir));) {
    g_autofree char *path = g_build_filename(corpus, name, NULL);
    g_autofree char *data = NULL;
    gsize size = 0;
    g_assert_true(g_file_get_contents(path, &data, &size, NULL));
    g_test_message("%s (%zu bytes)", name, size);
    LLVMFuzzerTestOneInput((const uint8_t *)data, size);
    n++;
  }
  g_assert_cmpuint(n, >, 0);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_assert_cmpint(argc, ==, 2); /* the corpus folder */
  corpus = argv[1];
  g_test_add_func("/fuzz/corpus-dicom", test_replay);
  return g_test_run();
}
