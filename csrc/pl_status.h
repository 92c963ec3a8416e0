/* Status codes returned by every photolink kernel (0 is success). */
#ifndef PL_STATUS_H
#define PL_STATUS_H

enum {
    PL_OK = 0,
    PL_EINVAL = 1,   /* an argument is outside its documented range */
    PL_ENOMEM = 2,   /* a caller-provided buffer is too small */
    PL_ERANGE = 3,   /* a value computed from valid arguments left the range the kernel handles */
    PL_EMORE = 4,    /* input the caller feeds in pieces ran short: refill it and call again */
};

#endif
