/* STUB: being written. */
#ifndef QB_ONNX_H
#define QB_ONNX_H
#endif
