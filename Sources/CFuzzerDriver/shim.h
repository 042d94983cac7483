#ifndef PRESIGND_FUZZER_DRIVER_SHIM_H
#define PRESIGND_FUZZER_DRIVER_SHIM_H
#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point for programs that own main(); it is only linked
   when the binary is built with -sanitize=fuzzer (make fuzz). */
typedef int (*presignd_fuzz_callback)(const uint8_t *data, size_t size);
int LLVMFuzzerRunDriver(int *argc, char ***argv, presignd_fuzz_callback callback);

#endif
