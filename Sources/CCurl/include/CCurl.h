// Typed wrappers around libcurl's variadic functions and macros, which Swift cannot call.
#ifndef VICE_CCURL_H
#define VICE_CCURL_H

#include <curl/curl.h>

typedef size_t (*vice_curl_data_callback)(char *buffer, size_t size, size_t count, void *userdata);
typedef int (*vice_curl_progress_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                            curl_off_t ultotal, curl_off_t ulnow);

CURLcode vice_curl_global_init(void);
CURLcode vice_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode vice_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode vice_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode vice_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode vice_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode vice_curl_setopt_data_callback(CURL *handle, CURLoption option, vice_curl_data_callback callback);
CURLcode vice_curl_setopt_progress_callback(CURL *handle, vice_curl_progress_callback callback);
CURLcode vice_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);

/// CURL_READFUNC_ABORT and CURL_WRITEFUNC_PAUSE are macros.
size_t vice_curl_readfunc_abort(void);

#endif
