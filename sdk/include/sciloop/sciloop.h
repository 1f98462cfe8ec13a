/* sciloop/sciloop.h — umbrella header: includes every public sciloop header. */
#ifndef SCILOOP_SCILOOP_H
#define SCILOOP_SCILOOP_H

#include "version.h"
#include "status.h"
#include "artifact.h"
#include "plugin.h"
#include "tensor.h"

#endif /* SCILOOP_SCILOOP_H */
