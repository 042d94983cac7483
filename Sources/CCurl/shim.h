#ifndef PRESIGND_CURL_SHIM_H
#define PRESIGND_CURL_SHIM_H
#include <curl/curl.h>

/* curl's setopt/getinfo are variadic; Swift calls these typed wrappers instead. */

typedef size_t (*presignd_curl_data_cb)(char *buffer, size_t size, size_t count, void *userdata);
typedef int (*presignd_curl_socket_cb)(CURL *easy, curl_socket_t socket, int what, void *userp, void *socketp);
typedef int (*presignd_curl_timer_cb)(CURLM *multi, long timeout_ms, void *userp);

static inline CURLcode presignd_curl_easy_setopt_long(CURL *easy, CURLoption option, long value) {
    return curl_easy_setopt(easy, option, value);
}
static inline CURLcode presignd_curl_easy_setopt_off(CURL *easy, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(easy, option, value);
}
static inline CURLcode presignd_curl_easy_setopt_string(CURL *easy, CURLoption option, const char *value) {
    return curl_easy_setopt(easy, option, value);
}
static inline CURLcode presignd_curl_easy_setopt_pointer(CURL *easy, CURLoption option, void *value) {
    return curl_easy_setopt(easy, option, value);
}
static inline CURLcode presignd_curl_easy_setopt_slist(CURL *easy, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(easy, option, value);
}
static inline CURLcode presignd_curl_easy_setopt_data_cb(CURL *easy, CURLoption option, presignd_curl_data_cb value) {
    return curl_easy_setopt(easy, option, value);
}
static inline CURLMcode presignd_curl_multi_setopt_socket_cb(CURLM *multi, presignd_curl_socket_cb value) {
    return curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, value);
}
static inline CURLMcode presignd_curl_multi_setopt_timer_cb(CURLM *multi, presignd_curl_timer_cb value) {
    return curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, value);
}
static inline CURLMcode presignd_curl_multi_setopt_pointer(CURLM *multi, CURLMoption option, void *value) {
    return curl_multi_setopt(multi, option, value);
}
static inline CURLMcode presignd_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}
static inline CURLcode presignd_curl_easy_getinfo_long(CURL *easy, CURLINFO info, long *value) {
    return curl_easy_getinfo(easy, info, value);
}
static inline CURLcode presignd_curl_easy_getinfo_pointer(CURL *easy, CURLINFO info, void **value) {
    return curl_easy_getinfo(easy, info, value);
}

/* Macros Swift cannot import. */
static inline size_t presignd_curl_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }
static inline size_t presignd_curl_readfunc_pause(void) { return CURL_READFUNC_PAUSE; }
static inline size_t presignd_curl_readfunc_abort(void) { return CURL_READFUNC_ABORT; }
static inline int presignd_curlpause_cont(void) { return CURLPAUSE_CONT; }
static inline curl_socket_t presignd_curl_socket_timeout(void) { return CURL_SOCKET_TIMEOUT; }

#endif
