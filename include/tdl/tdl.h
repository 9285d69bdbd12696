/* tdl/tdl.h — umbrella header of libtdl. */
#ifndef TDL_TDL_H
#define TDL_TDL_H
#include "tdl/error.h"
#include "tdl/version.h"
#include "tdl/names.h"
#include "tdl/memory.h"
#include "tdl/fileio.h"
#include "tdl/blas.h"
#include "tdl/tensor.h"
#include "tdl/io.h"
#include "tdl/data.h"
#include "tdl/model.h"
#include "tdl/net.h"
#include "tdl/train.h"
#include "tdl/hessian.h"
#include "tdl/spectral.h"
#include "tdl/bounds.h"
#include "tdl/landscape.h"
#include "tdl/ntk.h"
#include "tdl/sweep.h"
#include "tdl/signal.h"
#include "tdl/infoplane.h"
#endif
