/* vigil-dicom-send.h without the command line: peer validation, progress per
 * file, cancellation between files and a C-STORE failure status, against
 * DCMTK's storescp on loopback (tests/test-pacs-send.sh covers the network
 * errors against Orthanc). */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "vigil-dicom-send.h"

static void expect_invalid(const VigilPacsPeer *peer, const char *fragment) {
  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_pacs_peer_validate(peer, &error));
  g_assert_error(error, VIGIL_PACS_ERROR, VIGIL_PACS_ERROR_INVALID_PEER);
  if (!strstr(error->message, fragment))
    g_error("\"%s\" lacks \"%s\"", error->message, fragment);
}

static void test_validate(void) {
  const VigilPacsPeer good = {"pacs.example.org", 104, "ORTHANC", NULL, 0};
  g_assert_true(vigil_pacs_peer_validate(&good, NULL));
  VigilPacsPeer p = good;
  p.called_aet = "  PADDED  ", p.calling_aet = "ABCDEFGHIJKLMNOP"; /* 16, ends ignored */
  g_assert_true(vigil_pacs_peer_validate(&p, NULL));
  p = good, p.host = "";
  expect_invalid(&p, "no host");
  p = good, p.host = "pacs example";
  expect_invalid(&p, "space or control");
  p = good, p.port = 0;
  expect_invalid(&p, "port 0 is not in 1..65535");
  p = good, p.port = 65536;
  expect_invalid(&p, "port 65536");
  p = good, p.called_aet = NULL;
  expect_invalid(&p, "called AE title is empty");
  p = good, p.called_aet = "ABCDEFGHIJKLMNOPQ";
  expect_invalid(&p, "17 characters long; DICOM allows at most 16");
  p = good, p.called_aet = "    ";
  expect_invalid(&p, "only spaces");
  p = good, p.calling_aet = "A\\B";
  expect_invalid(&p, "calling AE title");
  p = good, p.called_aet = "TAB\tX";
  expect_invalid(&p, "character DICOM does not allow");
  p = good, p.called_aet = "TWO WORDS";
  expect_invalid(&p, "spaces only at the ends");
  p = good, p.called_aet = "CAF\xc3\x89";
  expect_invalid(&p, "printable ASCII");
  p = good, p.timeout_s = -1;
  expect_invalid(&p, "timeout -1 s");
  g_autofree char *name = vigil_pacs_peer_describe(&good);
  g_assert_cmpstr(name, ==, "ORTHANC@pacs.example.org:104");
}

/* A cancelled call touches no network: the peer here would time out. */
static void test_cancelled_before(void) {
  const VigilPacsPeer peer = {"192.0.2.1", 104, "NOBODY", NULL, 30};
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_cancellable_cancel(cancellable);
  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_pacs_echo(&peer, cancellable, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error(&error);
  const char *paths[] = {"/nonexistent.dcm", NULL};
  g_assert_false(vigil_pacs_send(&peer, paths, NULL, NULL, cancellable, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

typedef struct {
  char *dir, *received;
  GPid scp;
  VigilPacsPeer peer;
  char *paths[4];
} Node;

static int free_port(void) {
  g_autoptr(GSocket) s =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
  g_assert_true(g_socket_bind(s, any, FALSE, NULL));
  g_autoptr(GSocketAddress) bound = g_socket_get_local_address(s, NULL);
  return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

/* A failed assertion aborts the test: storescp must not outlive it. */
static void die_with_parent(gpointer data) {
  (void)data;
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* storescp on a free loopback port, and three CT files (tests/pacs-util.py). */
static void node_start(Node *node) {
  node->dir = g_dir_make_tmp("vigil-pacs-XXXXXX", NULL);
  node->received = g_build_filename(node->dir, "received", NULL);
  g_assert_cmpint(g_mkdir(node->received, 0700), ==, 0);
  g_autofree char *util =
      g_build_filename(g_getenv("VIGIL_SOURCE_DIR"), "tests", "pacs-util.py", NULL);
  char *fixtures[] = {"/usr/bin/python3", util, "fixtures", node->dir, NULL};
  int status = -1;
  g_assert_true(g_spawn_sync(NULL, fixtures, NULL, 0, NULL, NULL, NULL, NULL, &status, NULL));
  g_assert_cmpint(status, ==, 0);
  const int port = free_port();
  g_autofree char *port_text = g_strdup_printf("%d", port);
  char *scp[] = {"/usr/bin/storescp", "-aet", "STORESCP", "-od", node->received, port_text, NULL};
  g_assert_true(g_spawn_async(NULL, scp, NULL, G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent, NULL,
                              &node->scp, NULL));
  node->peer = (VigilPacsPeer){"127.0.0.1", port, "STORESCP", "VIGILTEST", 10};
  for (int i = 0; i < 3; i++)
    node->paths[i] = g_strdup_printf("%s/ct%d.dcm", node->dir, i + 1);
  for (int i = 0; i < 100 && !vigil_pacs_echo(&node->peer, NULL, NULL); i++)
    g_usleep(100000);
  g_assert_true(vigil_pacs_echo(&node->peer, NULL, NULL));
}

static guint count_received(const Node *node) {
  g_autoptr(GDir) d = g_dir_open(node->received, 0, NULL);
  guint n = 0;
  while (g_dir_read_name(d))
    n++;
  return n;
}

static void node_stop(Node *node) {
  kill(node->scp, SIGTERM);
  waitpid(node->scp, NULL, 0);
  g_spawn_close_pid(node->scp);
  for (int i = 0; i < 3; i++)
    g_free(node->paths[i]);
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", node->dir);
  g_assert_cmpint(system(rm), ==, 0);
  g_free(node->received);
  g_free(node->dir);
}

typedef struct {
  GString *log;
  GCancellable *cancel_after_first;
} Progress;

static void on_file(guint index, guint n_files, const char *path, gboolean stored,
                    const char *status, gpointer user_data) {
  Progress *p = user_data;
  g_string_append_printf(p->log, "%u/%u %s %d %s;", index, n_files, strrchr(path, '/') + 1, stored,
                         status);
  if (p->cancel_after_first)
    g_cancellable_cancel(p->cancel_after_first);
}

static void test_progress(void) {
  Node node = {0};
  node_start(&node);
  Progress p = {g_string_new(NULL), NULL};
  g_autoptr(GError) error = NULL;
  g_assert_true(
      vigil_pacs_send(&node.peer, (const char *const *)node.paths, on_file, &p, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(p.log->str, ==,
                  "0/3 ct1.dcm 1 stored;1/3 ct2.dcm 1 stored;2/3 ct3.dcm 1 stored;");
  g_assert_cmpuint(count_received(&node), ==, 3);
  g_string_free(p.log, TRUE);
  node_stop(&node);
}

/* Cancelling during the first file stops after it and aborts the association. */
static void test_cancel_between_files(void) {
  Node node = {0};
  node_start(&node);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  Progress p = {g_string_new(NULL), cancellable};
  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_pacs_send(&node.peer, (const char *const *)node.paths, on_file, &p,
                                 cancellable, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_nonnull(strstr(error->message, "1 of 3 file(s) were stored before"));
  g_assert_cmpstr(p.log->str, ==, "0/3 ct1.dcm 1 stored;");
  g_assert_cmpuint(count_received(&node), ==, 1);
  g_string_free(p.log, TRUE);
  node_stop(&node);
}

/* The node answers each C-STORE with a failure status (storescp cannot write:
 * its folder became a file): the send fails, naming each file and status. */
static void test_failure_status(void) {
  Node node = {0};
  node_start(&node);
  g_assert_cmpint(g_rmdir(node.received), ==, 0);
  g_assert_true(g_file_set_contents(node.received, "", 0, NULL));
  Progress p = {g_string_new(NULL), NULL};
  g_autoptr(GError) error = NULL;
  g_assert_false(
      vigil_pacs_send(&node.peer, (const char *const *)node.paths, on_file, &p, NULL, &error));
  g_assert_error(error, VIGIL_PACS_ERROR, VIGIL_PACS_ERROR_STORE_FAILED);
  g_assert_nonnull(strstr(error->message, "STORESCP@127.0.0.1:"));
  g_assert_nonnull(strstr(error->message, "did not store 3 of 3 file(s)"));
  g_assert_nonnull(
      strstr(error->message, "ct2.dcm: failed: status 0xA700 (Refused: OutOfResources)"));
  g_assert_nonnull(strstr(p.log->str, "2/3 ct3.dcm 0 failed: status 0xA700"));
  g_string_free(p.log, TRUE);
  node_stop(&node);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/pacs/validate", test_validate);
  g_test_add_func("/pacs/cancelled-before", test_cancelled_before);
  g_test_add_func("/pacs/progress", test_progress);
  g_test_add_func("/pacs/cancel-between-files", test_cancel_between_files);
  g_test_add_func("/pacs/failure-status", test_failure_status);
  return g_test_run();
}
