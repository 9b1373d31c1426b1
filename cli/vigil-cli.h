/* vigil-cli: one function per command; each parses its own options. */
#pragma once

#include <json-glib/json-glib.h>

typedef int (*VigilCliCommand)(int argc, char **argv);

/* Exit codes: 0 success, 1 the work failed, 2 bad usage. */
enum { VIGIL_CLI_OK = 0, VIGIL_CLI_FAILED = 1, VIGIL_CLI_USAGE = 2 };

int vigil_cli_devices(int argc, char **argv);
int vigil_cli_tokenize(int argc, char **argv);
int vigil_cli_model(int argc, char **argv);
int vigil_cli_model_import(int argc, char **argv); /* model-import.c */
int vigil_cli_model_list(int argc, char **argv);
int vigil_cli_bench(int argc, char **argv);
int vigil_cli_features(int argc, char **argv);
int vigil_cli_detect(int argc, char **argv);
int vigil_cli_report(int argc, char **argv);
int vigil_cli_render(int argc, char **argv);
int vigil_cli_info(int argc, char **argv);
int vigil_cli_scan_bench(int argc, char **argv);
int vigil_cli_send(int argc, char **argv);
int vigil_cli_synth(int argc, char **argv);
int vigil_cli_calibrate(int argc, char **argv);
int vigil_cli_eval(int argc, char **argv);

/* A memory figure of this process in MB from /proc/self/status, e.g.
 * "VmHWM:" (peak) or "VmRSS:" (now); -1 when unavailable. */
double vigil_cli_proc_mb(const char *field);

/* Adds "key": value, or "key": null when value is NULL. */
void vigil_cli_json_add_string(JsonBuilder *builder, const char *key, const char *value);

/* Prints the builder's JSON, indented, to stdout. */
void vigil_cli_print_json(JsonBuilder *builder);

/* Parses argv with `entries`; prints the error and returns FALSE on bad usage. */
gboolean vigil_cli_parse(const char *command, const char *summary, const GOptionEntry *entries,
                         int *argc, char ***argv);

/* "AE@HOST:PORT" into its parts (g_free them); FALSE when malformed (cli/send.c). */
gboolean vigil_cli_parse_node(const char *node, char **aet, char **host, int *port);
/* VigilPacsProgress that prints "PATH: STATUS" for each file sent. */
void vigil_cli_print_sent(guint index, guint n_files, const char *path, gboolean stored,
                          const char *status, gpointer user_data);
