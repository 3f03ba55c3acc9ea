/* SPDX-License-Identifier: ISC */
#ifndef TEMPUS_VERSION_H
#define TEMPUS_VERSION_H

#define TEMPUS_VERSION "0.1.0"
#define TEMPUS_DEFAULT_CONF "/etc/tempus/tempus.conf"

#endif
