/* STUB */
#ifndef QB_FASHION_MNIST_H
#define QB_FASHION_MNIST_H
#endif
