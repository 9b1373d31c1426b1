/* vigil-cli: the engine and scan tools from the command line. */
#include "vigil-cli.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "vigil-config.h"
#include "vigil-json.h"

typedef struct {
  const char *name;
  VigilCliCommand run;
  const char *summary;
} CliEntry;

static const CliEntry commands[] = {
    {"devices", vigil_cli_devices, "List the compute devices Vigil can use"},
    {"tokenize", vigil_cli_tokenize, "CLIP token ids of texts (MVFA prompts too)"},
    {"model", vigil_cli_model, "Import model files; random weights; describe a checkpoint"},
    {"features", vigil_cli_features, "Write the model input, adapter features, text features"},
    {"detect", vigil_cli_detect, "Anomaly maps and scores, zero- and few-shot"},
    {"report", vigil_cli_report, "Analyse a scan and write its report (PDF, JSON, PNG)"},
    {"bench", vigil_cli_bench, "Time the MVFA image forward"},
    {"render", vigil_cli_render, "Write a scan frame as the viewer shows it (PNG)"},
    {"info", vigil_cli_info, "List the studies, series and slices in scan files or folders"},
    {"scan-bench", vigil_cli_scan_bench, "Time opening scans and decoding a slice"},
    {"send", vigil_cli_send, "Send DICOM files to a PACS (C-STORE); test a node (C-ECHO)"},
    {"calibrate", vigil_cli_calibrate, "A score calibration from a labelled folder (JSON)"},
    {"eval", vigil_cli_eval, "MVFA's evaluation: AUROC, AP, F1, AUPRO; paper and single"},
    {"synth", vigil_cli_synth, "Phantom slices with lesions and masks (evaluation layout)"},
};

static void print_usage(FILE *out) {
  fprintf(out,
          "Usage: vigil-cli [--version] [--help] COMMAND [ARGS...]\n\n"
          "Vigil %s: medical scan viewer with MVFA anomaly detection.\n\nCommands:\n",
          VIGIL_VERSION);
  for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n'vigil-cli COMMAND --help' describes a command.\n");
}

gboolean vigil_cli_parse(const char *command, const char *summary, const GOptionEntry *entries,
                         int *argc, char ***argv) {
  g_autofree char *param = g_strdup_printf("- %s", summary);
  g_autoptr(GOptionContext) ctx = g_option_context_new(param);
  g_autofree char *prgname = g_strdup_printf("vigil-cli %s", command);
  g_set_prgname(prgname);
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, argc, argv, &error)) {
    fprintf(stderr, "vigil-cli %s: %s\n", command, error->message);
    return FALSE;
  }
  return TRUE;
}

double vigil_cli_proc_mb(const char *field) {
  g_autofree char *status = NULL;
  if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
    return -1;
  const char *line = strstr(status, field);
  return line ? g_ascii_strtod(line + strlen(field), NULL) / 1024.0 : -1; /* kB */
}

void vigil_cli_json_add_string(JsonBuilder *builder, const char *key, const char *value) {
  vigil_json_add_string(builder, key, value);
}

void vigil_cli_print_json(JsonBuilder *builder) {
  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autoptr(JsonNode) root = json_builder_get_root(builder);
  json_generator_set_pretty(gen, TRUE);
  json_generator_set_root(gen, root);
  g_autofree char *text = json_generator_to_data(gen, NULL);
  printf("%s\n", text);
}

int main(int argc, char **argv) {
  setlocale(LC_ALL, "");
  setlocale(LC_NUMERIC, "C"); /* numbers in JSON and files use '.' */
  if (argc < 2) {
    print_usage(stderr);
    return VIGIL_CLI_USAGE;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("vigil-cli %s\n", VIGIL_VERSION);
    return VIGIL_CLI_OK;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    print_usage(stdout);
    return VIGIL_CLI_OK;
  }
  for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "vigil-cli: unknown command '%s'\n\n", argv[1]);
  print_usage(stderr);
  return VIGIL_CLI_USAGE;
}
