#include "CCurl.h"

CURLcode vice_curl_global_init(void) { return curl_global_init(CURL_GLOBAL_ALL); }

CURLcode vice_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode vice_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode vice_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode vice_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode vice_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode vice_curl_setopt_data_callback(CURL *handle, CURLoption option, vice_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

CURLcode vice_curl_setopt_progress_callback(CURL *handle, vice_curl_progress_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

CURLcode vice_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

size_t vice_curl_readfunc_abort(void) { return CURL_READFUNC_ABORT; }
