/* Shared by the DICOM and series tests: fixtures made at test time. */
#pragma once

#include <glib.h>

/* Runs tests/dicom-fixtures.py into a new temporary folder; returns it. */
char *dicom_fixtures_make(void);
/* Removes the folder made above. */
void dicom_fixtures_remove(const char *dir);
/* Expected values written next to a fixture (name.f32); NULL if missing. */
float *dicom_fixture_expected(const char *dir, const char *name, gsize *count);
