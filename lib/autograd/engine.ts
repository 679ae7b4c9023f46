// Reverse-mode execution of the tape: topological order from the root, gradients summed per
// node, leaf gradients accumulated into `.grad`. Intermediate gradients are disposed as soon
// as no pending slot holds them, so backward's peak memory is the live frontier, not the graph.
import { DendriteError, fail, fmtShape } from '../errors';
import { Tensor, contiguousCopy } from '../tensor';
import { noGrad, type Node } from './node';
import { addInto, cloneTensor, onesLike } from './support';

export interface BackwardOptions {
  /** Keep the graph so backward can run through it again. */
  retainGraph?: boolean;
}

function topoOrder(root: Node): Node[] {
  // Iterative DFS post-order, reversed: every node comes before the nodes it feeds gradients to.
  const order: Node[] = [];
  const visited = new Set<Node>();
  const stack: [Node, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1]++;
      const next = node.inputs[i]?.gradFn;
      if (next && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

export function backward(root: Tensor, gradient?: Tensor, options: BackwardOptions = {}): void {
  root.assertLive('backward');
  if (!root.requiresGrad) fail('ERR_ARGUMENT', 'backward', 'a tensor that requires grad', 'one that does not (no input had requiresGrad: true)');
  if (gradient === undefined && root.numel() !== 1)
    fail('ERR_SHAPE', 'backward', 'a gradient argument for a non-scalar output', `none for shape ${fmtShape(root.shape)}`);
  if (gradient !== undefined) {
    if (!(gradient instanceof Tensor)) fail('ERR_ARGUMENT', 'backward', 'a Tensor gradient', typeof gradient);
    gradient.assertLive('backward');
    if (gradient.shape.length !== root.shape.length || gradient.shape.some((s, i) => s !== root.shape[i]))
      fail('ERR_SHAPE', 'backward', `a gradient of shape ${fmtShape(root.shape)}`, fmtShape(gradient.shape));
  }
  const retain = options.retainGraph === true;
  noGrad(() => {
    const seed = gradient ?? onesLike(root);
    const userOwned = new Set<Tensor>();
    if (gradient) userOwned.add(gradient);
    // How many pending slots hold each engine-made gradient; it is disposed when none does.
    const held = new Map<Tensor, number>();
    const hold = (t: Tensor) => held.set(t, (held.get(t) ?? 0) + 1);
    const drop = (t: Tensor) => {
      const n = (held.get(t) ?? 1) - 1;
      if (n > 0) held.set(t, n);
      else {
        held.delete(t);
        if (!userOwned.has(t) && !t.kept) t.dispose();
      }
    };
    const accumulateLeaf = (leaf: Tensor, g: Tensor) => {
      if (leaf.grad === null) {
        // The leaf owns its grad from now on: copy when the tensor is shared with another
        // holder or view, is the caller's, or is a broadcast view that in-place updates could
        // not write through.
        const own = g.storage.refs > 1 || userOwned.has(g) || held.has(g) || !g.isContiguous() || g.kept;
        const grad = own ? cloneTensor(g) : g;
        grad.kept = true;
        leaf.grad = grad;
      } else {
        addInto(leaf.grad, g);
      }
    };

    if (root.gradFn === null) {
      accumulateLeaf(root, seed);
      return;
    }
    const order = topoOrder(root.gradFn);
    const pending = new Map<Node, Tensor>();
    pending.set(root.gradFn, seed);
    hold(seed);
    for (const node of order) {
      const g = pending.get(node);
      if (g === undefined) continue;
      pending.delete(node);
      const fn = node.backwardFn;
      if (fn === null)
        throw new DendriteError(
          `backward: expected a graph that is still alive, got one already freed by an earlier backward through ${node.name} (pass { retainGraph: true } to the first backward)`,
          'ERR_ARGUMENT',
        );
      const grads = fn(g);
      const inputs = node.inputs;
      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i];
        let gi = grads[i];
        if (input === null || gi === null || gi === undefined) continue;
        // A gradient has its input's dtype (float32 + float64 computes in float64, but the
        // float32 operand's gradient is float32), as PyTorch's engine casts it.
        if (gi.dtype !== input.dtype) gi = contiguousCopy(gi, input.dtype);
        if (input.gradFn === null) {
          if (input.requiresGrad) accumulateLeaf(input, gi);
          continue;
        }
        const prev = pending.get(input.gradFn);
        if (prev === undefined) {
          pending.set(input.gradFn, gi);
          hold(gi);
        } else {
          const sum = prev.add(gi);
          drop(prev);
          pending.set(input.gradFn, sum);
          hold(sum);
        }
      }
      drop(g);
      // Gradients returned for inputs that nothing holds (leaf copies, unused) go now.
      for (const gi of grads) if (gi && !held.has(gi) && !userOwned.has(gi) && !gi.kept) gi.dispose();
      if (!retain) {
        node.backwardFn = null;
        node.inputs = node.inputs.map(() => null);
      }
    }
    for (const t of held.keys()) if (!userOwned.has(t) && !t.kept) t.dispose();
  });
}
