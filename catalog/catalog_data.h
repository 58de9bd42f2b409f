/* catalog_data.h - the generated tables behind <parley/errors.h>.
 * catalog_data.c is written by gen.py at build time; catalog.c reads it. */
#ifndef PARLEY_CATALOG_DATA_H
#define PARLEY_CATALOG_DATA_H

#include <parley/errors.h>

extern const parley_error_info parley__catalog[];
extern const size_t parley__catalog_count;
extern const parley_leave_reason parley__leave_reasons[];
extern const size_t parley__leave_reason_count;

#endif
