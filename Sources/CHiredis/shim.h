#ifndef PRESIGND_CHIREDIS_SHIM_H
#define PRESIGND_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>
#endif
