/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __ERRNO_HELPERS_H
#define __ERRNO_HELPERS_H

int errno_by_name(const char *errno_name);

#endif /* __ERRNO_HELPERS_H */
