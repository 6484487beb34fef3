/* Runs the model once on a fixed input and prints the class and its probability. */
#include <stdio.h>

#include "model.h"

int main(void) {
  float x[DIGITS_MLP_X_COUNT];
  float probs[DIGITS_MLP_PROBS_COUNT];
  int32_t class_[DIGITS_MLP_CLASS__COUNT];
  int i;
  for (i = 0; i < DIGITS_MLP_X_COUNT; i++) x[i] = (float)((i * 7) % 17);
  if (digits_mlp_run(x, probs, class_) != 0) return 1;
  printf("class %d, probability %.6f\n", (int)class_[0], (double)probs[class_[0]]);
  return 0;
}
