/** The fused kernels' names and attributes. */

export const ICL_FORWARD = 'AttnlabIclForward';
export const ICL_BACKWARD = 'AttnlabIclBackward';
export const ICL_LOSS_GRAD = 'AttnlabIclLossGrad';
export const ADAM_FLAT = 'AttnlabAdamFlat';
export const ICL_STACK_FORWARD = 'AttnlabIclStackForward';
export const ICL_STACK_BACKWARD = 'AttnlabIclStackBackward';
export const ICL_STACK_LOSS_GRAD = 'AttnlabIclStackLossGrad';

/** Attributes of the single-layer kernels (flat params: Wq | Wk | Wv [H, D, D] | Wo [H, D, 1]). */
export interface IclAttrs {
  heads: number;
  d: number;
}

/** Attributes of the stack kernels (flat params: per stored layer Wq | Wk | Wv | Wo [H, D, D], then final [D, 1]). */
export interface IclStackAttrs {
  heads: number;
  d: number;
  layers: number;
  tied: boolean;
  residual: boolean;
}

/** Attributes of AttnlabAdamFlat: PyTorch's Adam at 1-based step `step`. */
export interface AdamFlatAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  step: number;
}
