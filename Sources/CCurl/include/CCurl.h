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

/// Decides whether a connection to a resolved address may be opened: family AF_INET (4 bytes),
/// AF_INET6 (16 bytes) or AF_UNIX (no bytes). Returns non-zero to allow.
typedef int (*vice_address_check)(void *userdata, int family, const unsigned char *address, size_t length);

/// Installs curl's open-socket callback on `handle`: every socket curl opens is first put to
/// `check` (set once with vice_curl_set_address_check) with `userdata`.
CURLcode vice_curl_guard_sockets(CURL *handle, void *userdata);
void vice_curl_set_address_check(vice_address_check check);

/// CURL_READFUNC_ABORT and CURL_WRITEFUNC_PAUSE are macros.
size_t vice_curl_readfunc_abort(void);

#endif
