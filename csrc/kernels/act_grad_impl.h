/* act_grad_impl.h — template body, no include guard. Needs T, SFX(name) and dense.h.
 * dz = dy · act'(z) read from the activation's output y, one value at a time: the one
 * statement of these derivatives, for dense_impl.h's pc_act_backward over whole arrays
 * and for the kernels that fold the activation's backward into their own pass
 * (conv_direct, winograd).
 *   relu' = [y > 0] (the gradient at 0 is 0); sigmoid' = y (1 − y); tanh' = 1 − y² */
static inline T
SFX(pc_act_grad)(T dy, T y, int act)
{
    /* an if-chain, not a switch: GCC unswitches loops over a loop-invariant act on
     * ifs, and then vectorizes each version */
    if (act == PC_ACT_RELU)
        return y > 0 ? dy : (T)0;
    if (act == PC_ACT_SIGMOID)
        return dy * y * (1 - y);
    if (act == PC_ACT_TANH)
        return dy * (1 - y * y);
    return dy;
}
