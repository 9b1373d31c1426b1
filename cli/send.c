/* vigil-cli send: DICOM files to a PACS with C-STORE, one line per file with
 * its status; --echo tests the node first (C-ECHO). Exit 1 when the node
 * cannot be reached or did not store every file, 2 on bad usage. */
#include <stdio.h>
#include <string.h>

#include "vigil-cli.h"
#include "vigil-dicom-send.h"

gboolean vigil_cli_parse_node(const char *node, char **aet, char **host, int *port) {
  const char *at = strrchr(node, '@');
  const char *colon = at ? strrchr(at, ':') : NULL;
  gint64 value = 0;
  if (!at || !colon || at == node || colon == at + 1 ||
      !g_ascii_string_to_signed(colon + 1, 10, 1, 65535, &value, NULL))
    return FALSE;
  *aet = g_strndup(node, (gsize)(at - node));
  *host = g_strndup(at + 1, (gsize)(colon - at - 1));
  *port = (int)value;
  return TRUE;
}

void vigil_cli_print_sent(guint index, guint n_files, const char *path, gboolean stored,
                          const char *status, gpointer user_data) {
  (void)index, (void)n_files, (void)stored, (void)user_data;
  printf("%s: %s\n", path, status);
  fflush(stdout);
}

static int usage(const char *message) {
  fprintf(stderr, "vigil-cli send: %s\n", message);
  return VIGIL_CLI_USAGE;
}

/* The node from --node or --host/--port/--aet; FALSE after printing why. */
static gboolean node_from_options(const char *node, char **host, int *port, char **aet) {
  if (node && (*host || *aet)) {
    usage("give either --node or --host and --aet, not both");
    return FALSE;
  }
  if (node) {
    g_clear_pointer(host, g_free);
    if (!vigil_cli_parse_node(node, aet, host, port)) {
      usage("--node wants AE@HOST:PORT, e.g. ORTHANC@pacs.example.org:4242");
      return FALSE;
    }
  }
  if (!*host || !*aet) {
    usage("give the node with --host and --aet (and --port), or --node AE@HOST:PORT");
    return FALSE;
  }
  return TRUE;
}

static int run(const VigilPacsPeer *peer, gboolean echo, char **files) {
  g_autoptr(GError) error = NULL;
  g_autofree char *name = vigil_pacs_peer_describe(peer);
  if (echo) {
    if (!vigil_pacs_echo(peer, NULL, &error)) {
      fprintf(stderr, "vigil-cli send: C-ECHO failed: %s\n", error->message);
      return VIGIL_CLI_FAILED;
    }
    printf("C-ECHO to %s: success\n", name);
  }
  if (!files[0])
    return VIGIL_CLI_OK;
  if (!vigil_pacs_send(peer, (const char *const *)files, vigil_cli_print_sent, NULL, NULL,
                       &error)) {
    fprintf(stderr, "vigil-cli send: %s\n", error->message);
    return VIGIL_CLI_FAILED;
  }
  return VIGIL_CLI_OK;
}

int vigil_cli_send(int argc, char **argv) {
  g_autofree char *host = NULL, *aet = NULL, *calling = NULL, *node = NULL;
  int port = VIGIL_PACS_DEFAULT_PORT, timeout = 0;
  gboolean echo = FALSE;
  const GOptionEntry entries[] = {
      {"host", 0, 0, G_OPTION_ARG_STRING, &host, "The node's host name or address", "HOST"},
      {"port", 0, 0, G_OPTION_ARG_INT, &port, "The node's port (104)", "PORT"},
      {"aet", 0, 0, G_OPTION_ARG_STRING, &aet, "The node's (called) AE title", "AE"},
      {"node", 0, 0, G_OPTION_ARG_STRING, &node, "The node as AE@HOST:PORT", "AE@HOST:PORT"},
      {"calling-aet", 0, 0, G_OPTION_ARG_STRING, &calling, "Our AE title (VIGIL)", "AE"},
      {"calling-ae", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &calling, NULL, NULL},
      {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
       "Seconds to wait for a connection or an answer (30)", "S"},
      {"echo", 0, 0, G_OPTION_ARG_NONE, &echo, "Test the node with a C-ECHO first", NULL},
      {NULL},
  };
  if (!vigil_cli_parse("send", "send DICOM files to a PACS (C-STORE) or test it (--echo)", entries,
                       &argc, &argv))
    return VIGIL_CLI_USAGE;
  if (!node_from_options(node, &host, &port, &aet))
    return VIGIL_CLI_USAGE;
  if (argc < 2 && !echo)
    return usage("give at least one FILE, or --echo");
  const VigilPacsPeer peer = {
      .host = host, .port = port, .called_aet = aet, .calling_aet = calling, .timeout_s = timeout};
  g_autoptr(GError) error = NULL;
  if (!vigil_pacs_peer_validate(&peer, &error))
    return usage(error->message);
  return run(&peer, echo, argv + 1);
}
