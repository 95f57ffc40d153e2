/* graphviz-ad: step through the evaluation and the backward sweep of the drawn graph, or
   forward mode's tangent sweep of one input element (the menu by the speed).
   Every text from the data is put in with textContent, never as markup. */
function startPage() {
  "use strict";

  const data = JSON.parse(document.getElementById("gad-data").textContent);
  const byId = (id) => document.getElementById(id);
  const stage = byId("stage");
  const trace = data.trace || { forward: [], backward: [], gradient: {} };
  const forward = trace.forward;
  const backward = trace.backward;
  const DIGITS = 4;
  const CHIPS = 4;  // at most this many inputs get a chip each at the top; more, a list
  const CHOICES = 50;  // a list under a field shows this many names, then how many more
  const BASE_DELAY = 900;  // milliseconds per step at 1×

  /* ---------- numbers, as graphviz_ad/display.py writes them ---------- */

  function toNumber(item) {
    if (typeof item === "number") return item;
    return { nan: NaN, inf: Infinity, "-inf": -Infinity }[item];
  }

  function stripZeros(text) {
    return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
  }

  /* Python's format(value, ".{digits}g"): display.number(value, digits). */
  function number(item, digits) {
    const value = toNumber(item);
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    if (value === 0) return "0";
    const [mantissa, power] = value.toExponential(digits - 1).split("e");
    const exponent = Number(power);
    let text;
    if (exponent < -4 || exponent >= digits) {
      const size = String(Math.abs(exponent)).padStart(2, "0");
      text = `${stripZeros(mantissa)}e${exponent < 0 ? "-" : "+"}${size}`;
    } else {
      text = stripZeros(value.toFixed(digits - 1 - exponent));
    }
    return text === "-0" ? "0" : text;
  }

  function shapeOf(item) {
    const shape = [];
    for (let level = item; Array.isArray(level); level = level[0]) shape.push(level.length);
    return shape;
  }

  function nested(item, digits) {
    return Array.isArray(item) ? `[${item.map((element) => nested(element, digits)).join(", ")}]`
      : number(item, digits);
  }

  function extremes(numbers) {
    let low = Infinity;
    let high = -Infinity;
    for (const element of numbers) {
      if (Number.isNaN(element)) return [NaN, NaN];
      low = Math.min(low, element);
      high = Math.max(high, element);
    }
    return [low, high];
  }

  /* A value as render/picture.summarize_array shows it: a number, a small array in full, else
     its shape and range. Arrays embedded as {shape, min, max} were too large to embed whole. */
  function shown(item, digits = DIGITS) {
    if (item === null || item === undefined) return "";
    if (!Array.isArray(item) && typeof item === "object") {
      const range = `${item.shape.join("×")} in [${number(item.min, 3)}, ${number(item.max, 3)}]`;
      return item.norm === undefined ? range : `${range}, norm ${number(item.norm, 3)}`;
    }
    if (!Array.isArray(item)) return number(item, digits);
    const flat = item.flat(Infinity).map(toNumber);
    if (flat.length <= 4) return nested(item, digits);
    const [low, high] = extremes(flat);
    return `${shapeOf(item).join("×")} in [${number(low, 3)}, ${number(high, 3)}]`;
  }

  const isScalar = (item) => !Array.isArray(item) && typeof item !== "object";

  /* A value in words, for a step over arrays: `8×8×3×3 numbers from -0.1 to 0.2`, `8×8
     zeros`; a number or a small array as `shown` writes it. */
  function inWords(item) {
    if (isScalar(item) || (Array.isArray(item) && item.flat(Infinity).length <= 4)) return shown(item);
    const embedded = !Array.isArray(item);
    const shape = (embedded ? item.shape : shapeOf(item)).join("×");
    const [low, high] = embedded ? [item.min, item.max] : extremes(item.flat(Infinity).map(toNumber));
    if (toNumber(low) === toNumber(high)) {
      return toNumber(low) === 0 ? `${shape} zeros` : `${shape} numbers, all ${number(low, 3)}`;
    }
    return `${shape} numbers from ${number(low, 3)} to ${number(high, 3)}`;
  }

  function element(tag, className, text) {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined) made.textContent = text;
    return made;
  }

  /* ---------- names and the timeline, the same in every drawing ---------- */

  const nameOf = new Map();
  forward.forEach((step) => nameOf.set(step.id, step.name));
  const F = forward.length;
  const SEED = F + 1;
  /* The sweep after the evaluation: the backward sweep (null), or one of forward mode's
     tangent sweeps, each node's tangent a step; the menu chooses. */
  const tangents = trace.tangents || { sweeps: [], needed: {}, left_out: {}, note: "" };
  const TANGENT_SWEEPS = Object.values(tangents.needed).reduce((sum, count) => sum + count, 0);
  let sweep = null;
  let S = backward.length;  // the steps of the chosen sweep
  let DONE = data.trace ? F + S + 2 : 0;
  const forwardIndex = new Map(forward.map((step, index) => [step.id, index]));
  const outputBoxInfo = data.drawings[0].nodes.find((node) => node.output);
  const outputNode = outputBoxInfo ? outputBoxInfo.members[outputBoxInfo.members.length - 1] : null;

  function phaseOf(position) {
    if (position === 0) return "overview";
    if (position <= F) return "forward";
    if (position === SEED) return "seed";
    if (position < DONE) return sweep ? "tangent" : "backward";
    return "done";
  }

  /* ---------- a drawing: one SVG laid out by Graphviz, its boxes found by the ids of our DOT ---------- */

  const SVG_NS = "http://www.w3.org/2000/svg";

  /* What a screen reader says of a box: `x2 (an input), value 0.5, grad 1.617`. */
  function boxLabel(node) {
    const spoken = (item) => (Array.isArray(item) || (item && item.shape) ? "an array" : number(item, 4));
    const named = node.names.length && node.names.join() !== node.label;
    const parts = [`${named ? `${node.names.join(", ")} = ` : ""}${node.label} (${node.kind})`];
    if (node.value !== null) parts.push(`value ${spoken(node.value)}`);
    if (node.adjoint !== null) parts.push(`grad ${spoken(node.adjoint)}`);
    if (node.opens) parts.push("a folded group");
    return parts.join(", ");
  }

  function makeDrawing(info, svg) {
    const nodes = info.nodes;
    const edges = info.edges;
    const boxElement = new Map();  // drawn id (n3) -> <g class="node">, by its <title>
    for (const group of svg.querySelectorAll("g.node")) {
      const title = group.querySelector("title");
      if (title) boxElement.set(title.textContent, group);
    }
    const drawing = { info, svg, nodes, edges, boxes: nodes.map((node) => boxElement.get(node.id) || null) };
    // Each box a button that Tab reaches in the order of evaluation (Graphviz writes them by
    // rank: moved to the end of their layer, in order, they are still drawn over the edges), and
    // a screen reader names.
    svg.setAttribute("role", "group");
    svg.setAttribute("aria-label", "the graph: Tab moves from box to box, Enter shows one");
    drawing.boxes.forEach((box, index) => {
      if (!box) return;
      box.parentNode.appendChild(box);
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "button");
      box.setAttribute("aria-label", boxLabel(nodes[index]));
    });
    drawing.edgeElements = matchEdges(svg, edges);
    drawing.boxesOf = new Map();  // graph node -> the boxes that show it (copies of a leaf: several)
    nodes.forEach((node, index) => node.members.forEach((member) => {
      if (!drawing.boxesOf.has(member)) drawing.boxesOf.set(member, []);
      drawing.boxesOf.get(member).push(index);
    }));
    drawing.boxIndex = new Map(nodes.map((node, index) => [node.id, index]));
    drawing.edgeByKey = new Map();
    edges.forEach((edge, index) => {
      for (const key of [`${edge.source}>${edge.target}#${edge.slot}`, `${edge.source}>${edge.target}`]) {
        if (!drawing.edgeByKey.has(key)) drawing.edgeByKey.set(key, index);
      }
    });
    drawing.outputBox = nodes.findIndex((node) => node.output);
    drawing.evaluatedAt = nodes.map((node) => {
      const last = node.members[node.members.length - 1];
      return forwardIndex.has(last) ? forwardIndex.get(last) + 1 : 0;
    });
    drawing.stepEdge = backward.map((step) => drawnEdge(drawing, step.target_id, step.via_id, step.slot));
    drawing.tangentEdges = new Map();  // a tangent sweep -> each step's drawn edges, one per term
    drawing.inEdges = nodes.map(() => []);
    edges.forEach((edge, index) => {
      if (drawing.boxIndex.has(edge.target)) drawing.inEdges[drawing.boxIndex.get(edge.target)].push(index);
    });
    drawing.gradText = classifyTexts(drawing);
    tagTraceNames(drawing);
    drawing.shownClass = nodes.map(() => "");
    drawing.shownGrad = nodes.map(() => null);
    drawing.shownEdge = edges.map(() => "");
    const full = svg.viewBox.baseVal;
    drawing.whole = { x: full.x, y: full.y, w: full.width, h: full.height };
    /* The drawing keeps its own size in pixels (never a percentage, which would make Chromium
       lay out every text again whenever anything else on the page changes). */
    drawing.base = Math.min(1, 16000 / Math.max(drawing.whole.w, drawing.whole.h, 1));
    svg.setAttribute("width", String(drawing.whole.w * drawing.base));
    svg.setAttribute("height", String(drawing.whole.h * drawing.base));
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    drawing.graphGroup = svg.querySelector("g.graph");
    return drawing;
  }

  /* Graphviz numbers edges edge1, edge2, ... in the order our DOT lists them (both renderers);
     each <title> says tail->head, which is checked, else edges are matched by title in order. */
  function matchEdges(svg, edges) {
    const drawn = Array.from(svg.querySelectorAll("g.edge"));
    const title = (group) => (group.querySelector("title") || {}).textContent;
    const byNumber = edges.map((edge, index) => {
      const group = drawn[index];
      return group && group.id === `edge${index + 1}` && title(group) === `${edge.source}->${edge.target}` ? group : null;
    });
    if (byNumber.every(Boolean)) return byNumber;
    const queues = new Map();
    for (const group of drawn) {
      if (!queues.has(title(group))) queues.set(title(group), []);
      queues.get(title(group)).push(group);
    }
    return edges.map((edge) => (queues.get(`${edge.source}->${edge.target}`) || []).shift() || null);
  }

  /* The drawn edge that shows the graph's edge producer -> consumer (argument `slot`), or -1
     when both ends are in one box (a folded chain or group). */
  function drawnEdge(drawing, producer, consumer, slot) {
    const tails = drawing.boxesOf.get(producer) || [];
    const heads = drawing.boxesOf.get(consumer) || [];
    let loose = -1;
    for (const tail of tails) {
      for (const head of heads) {
        if (tail === head) continue;
        const key = `${drawing.nodes[tail].id}>${drawing.nodes[head].id}`;
        if (drawing.edgeByKey.has(`${key}#${slot}`)) return drawing.edgeByKey.get(`${key}#${slot}`);
        if (loose < 0 && drawing.edgeByKey.has(key)) loose = drawing.edgeByKey.get(key);
      }
    }
    return loose;  // into a folded group the slot is the producer's place among its inputs
  }

  /* Each box's rows of text: the first row (the title) stays; value rows are `v`, the grad
     row `g`, so that the sweeps can hide what is not computed yet. */
  function classifyTexts(drawing) {
    return drawing.boxes.map((box) => {
      if (!box) return null;
      const texts = Array.from(box.querySelectorAll("text"));
      if (texts.length === 0) return null;
      const top = Math.min(...texts.map((text) => Number(text.getAttribute("y"))));
      let grad = null;
      for (const text of texts) {
        if (Number(text.getAttribute("y")) === top) continue;
        const isGrad = text.textContent.startsWith("grad ");
        text.classList.add(isGrad ? "g" : "v");
        if (isGrad) grad = { text, original: text.textContent, centred: false };
      }
      /* A heatmap's cells come after the texts: the value's above the grad row, the grad's
         below it. */
      const gradY = grad ? Number(grad.text.getAttribute("y")) : Infinity;
      for (const cell of box.querySelectorAll("text ~ polygon")) {
        const y = Number((cell.getAttribute("points") || "").split(/[ ,]/)[1]);
        cell.classList.add(y > gradY ? "g" : "v");
      }
      return grad;
    });
  }

  /* The steps call an unnamed operation v1, v2, ...: a small tag over its box says which. */
  function tagTraceNames(drawing) {
    drawing.nodes.forEach((node, index) => {
      const last = node.members[node.members.length - 1];
      const box = drawing.boxes[index];
      if (!box || node.names.length || node.opens || ["input", "constant"].includes(node.kind)
        || !nameOf.has(last)) return;
      const shape = box.querySelector("path, polygon, ellipse");
      if (!shape) return;
      const bounds = shape.getBBox();
      const tag = document.createElementNS(SVG_NS, "text");
      tag.setAttribute("x", bounds.x + 3);
      tag.setAttribute("y", bounds.y - 3);
      tag.setAttribute("class", "trace-name");
      tag.textContent = nameOf.get(last);
      box.append(tag);
    });
  }

  /* The box's grad row says `wanted` (`grad 1.617`, `tan 0.8776`); null: the drawing's own. */
  function setGrad(drawing, index, wanted) {
    const entry = drawing.gradText[index];
    if (!entry) return;
    if (wanted === null) wanted = entry.original;
    if (entry.text.textContent === wanted) return;
    if (!entry.centred) {  // centred once, so a longer or shorter total stays in the middle
      const shape = drawing.boxes[index].querySelector("path, polygon, ellipse");
      if (shape) {
        const bounds = shape.getBBox();
        entry.text.setAttribute("x", bounds.x + bounds.width / 2);
        entry.text.setAttribute("text-anchor", "middle");
      }
      entry.centred = true;
    }
    entry.text.textContent = wanted;
  }

  const drawings = data.drawings.map(() => null);
  drawings[0] = makeDrawing(data.drawings[0], stage.querySelector("svg"));
  let view = drawings[0];
  const representative = (index) => view.nodes[index].members[view.nodes[index].members.length - 1];
  /* An input box's name as the paths know it: a box's label cuts a long name in the middle. */
  const nameOfInput = (node) => nameOf.get(node.members[node.members.length - 1]) || node.names[0] || node.label;
  const graphName = (node) => nameOf.has(node) ? nameOf.get(node)
    : (view.boxesOf.has(node) ? view.nodes[view.boxesOf.get(node)[0]].label : `node ${node}`);

  /* ---------- what the drawing shows at a position ---------- */

  /* Every box's and edge's look at `position`: O(boxes + edges + steps), no DOM. */
  function stateAt(position) {
    const { nodes, edges } = view;
    const phase = phaseOf(position);
    const boxClass = nodes.map(() => "");
    const boxGrad = nodes.map(() => null);  // null: the drawing's own text
    const edgeClass = edges.map(() => "");
    const mark = (node, name) => (view.boxesOf.get(node) || []).forEach((box) => { boxClass[box] += ` ${name}`; });
    if (phase === "forward") {
      nodes.forEach((node, index) => { boxClass[index] = view.evaluatedAt[index] > position ? "pending" : "nograd"; });
      edges.forEach((edge, index) => {
        const head = view.boxIndex.get(edge.target);
        if (head !== undefined && view.evaluatedAt[head] > position) edgeClass[index] = "dim";
      });
      const current = forward[position - 1].id;
      mark(current, "current");
      for (const box of view.boxesOf.get(current) || []) {
        for (const index of view.inEdges[box]) edgeClass[index] = "feeding";
      }
    } else if (sweep && phase !== "overview") {  // and at the end, every tangent stays shown
      const applied = { seed: 0, tangent: position - SEED, done: S }[phase];
      const known = new Map([[sweep.id, seedText(sweep)]]);
      for (let index = 0; index < applied; index++) known.set(sweep.steps[index].id, shown(sweep.steps[index].tangent));
      nodes.forEach((node, index) => {
        const last = representative(index);
        if (known.has(last)) boxGrad[index] = `tan ${known.get(last)}`;
        else boxClass[index] = "nograd";
      });
      const stepEdges = tangentEdges(view, sweep);
      const used = new Set(stepEdges.slice(0, applied).flat());
      edges.forEach((edge, index) => { if (!used.has(index)) edgeClass[index] = "dim"; });
      if (phase === "seed") {
        mark(sweep.id, "current");
      } else if (phase === "tangent") {
        const step = sweep.steps[applied - 1];
        step.terms.forEach((term) => mark(term.argument_id, "source"));
        mark(step.id, "current");
        for (const edge of stepEdges[applied - 1]) if (edge >= 0) edgeClass[edge] = "current";
      }
    } else if (phase === "seed" || phase === "backward") {
      const applied = phase === "seed" ? 0 : position - SEED;
      const totals = new Map();
      for (let index = 0; index < applied; index++) totals.set(backward[index].target_id, backward[index].total);
      nodes.forEach((node, index) => {
        const last = representative(index);
        if (last === outputNode) boxGrad[index] = "grad 1";
        else if (totals.has(last)) boxGrad[index] = `grad ${shown(totals.get(last))}`;
        else boxClass[index] = "nograd";
      });
      const used = new Set(view.stepEdge.slice(0, applied));
      edges.forEach((edge, index) => { if (!used.has(index)) edgeClass[index] = "dim"; });
      if (phase === "seed") {
        mark(outputNode, "current");
      } else {
        const step = backward[applied - 1];
        mark(step.via_id, "source");
        mark(step.target_id, "current");
        if (view.stepEdge[applied - 1] >= 0) edgeClass[view.stepEdge[applied - 1]] = "current";
      }
    }
    return { phase, boxClass: boxClass.map((name) => name.trim()), boxGrad, edgeClass };
  }

  /* Each step of a tangent sweep's drawn edges in `drawing`, one per term; made once. */
  function tangentEdges(drawing, chosen) {
    if (!drawing.tangentEdges.has(chosen)) {
      drawing.tangentEdges.set(chosen, chosen.steps.map((step) => step.terms.map(
        (term) => drawnEdge(drawing, term.argument_id, step.id, term.slot))));
    }
    return drawing.tangentEdges.get(chosen);
  }

  /* The seed's tangent on its box: 1, or for an array's element, where the 1 is. */
  const seedText = (chosen) => (chosen.index.length ? `1 at [${chosen.index.join(", ")}]` : "1");

  function setClass(target, base, extra) {
    if (target) target.setAttribute("class", extra ? `${base} ${extra}` : base);
  }

  /* Only what changed touches the DOM. */
  function applyState(state) {
    view.nodes.forEach((node, index) => {
      if (state.boxClass[index] !== view.shownClass[index]) {
        setClass(view.boxes[index], "node", state.boxClass[index] + (index === selected ? " selected" : ""));
        view.shownClass[index] = state.boxClass[index];
      }
      if (state.boxGrad[index] !== view.shownGrad[index]) {
        setGrad(view, index, state.boxGrad[index]);
        view.shownGrad[index] = state.boxGrad[index];
      }
    });
    view.edges.forEach((edge, index) => {
      if (state.edgeClass[index] !== view.shownEdge[index]) {
        setClass(view.edgeElements[index], "edge", state.edgeClass[index]);
        view.shownEdge[index] = state.edgeClass[index];
      }
    });
  }

  /* ---------- the step's text ---------- */

  const valueByName = new Map();
  forward.forEach((step) => valueByName.set(step.name, step.value));
  const times = (...items) => (items.every(isScalar) ? " × " : " · ");
  /* An imported operation may come without a formula: then it is named. */
  const formulaOf = (step) => step.formula || `∂${step.via}/∂${step.target}`;

  /* `n / d` with every earlier name's value in its place: `1.479 / 4.982`. */
  function substituted(expression) {
    return expression.replace(/[A-Za-z_][A-Za-z0-9_]*(?!\s*\()/g, (name) => {
      if (!valueByName.has(name) || !isScalar(valueByName.get(name))) return name;
      const text = number(valueByName.get(name), DIGITS);
      return text.startsWith("-") ? `(${text})` : text;
    });
  }

  function describe(position) {
    const phase = phaseOf(position);
    const output = data.output_name;
    if (phase === "overview") {
      const box = view.outputBox >= 0 ? view.nodes[view.outputBox] : null;
      return [data.trace ? "the whole computation" : "the computation", "",
        `${output} = ${box ? shown(box.value) : ""}`,
        !data.trace ? "" : sweep ? `Press → or ▶ to evaluate it node by node, then to push the tangent of ${sweep.seed} forward node by node.`
          : "Press → or ▶ to evaluate it node by node, then to run the backward sweep edge by edge."];
    }
    if (phase === "forward") {
      const step = forward[position - 1];
      const value = shown(step.value);
      if (step.kind === "input") {
        return [`forward · step ${position} of ${F}`, `${step.name}: an input`, `${step.name} = ${value}`,
          `from the source: ${step.source}`];
      }
      const numbers = substituted(step.expression);
      return [`forward · step ${position} of ${F}`, `${step.name} = ${step.expression}`,
        numbers === step.expression ? `${step.name} = ${value}` : `${step.name} = ${numbers} = ${value}`,
        `from the source: ${step.source}`];
    }
    if (sweep && phase === "seed") {
      const others = TANGENT_SWEEPS > 1;
      return ["forward mode · the seed", sweep.index.length ? `tan(${sweep.input}) = 1 at [${sweep.index.join(", ")}], 0 elsewhere` : `tan(${sweep.seed}) = 1`,
        `d${sweep.seed}/d${sweep.seed} = 1${others ? "; every other input element's tangent is 0" : ""}`,
        "then each node's tangent is the sum over its arguments of their tangent × the local derivative, in evaluation order"];
    }
    if (phase === "tangent") {
      const index = position - SEED - 1;
      const step = sweep.steps[index];
      const signs = step.terms.map((term) => times(term.tangent, term.local));
      const formulas = step.terms.map((term, at) => `tan(${term.argument})${signs[at]}${term.formula || `∂${step.name}/∂${term.argument}`}`);
      const numbers = step.terms.map((term, at) => `${shown(term.tangent)}${signs[at]}${shown(term.local)}`);
      return [`forward mode · tangents of ${sweep.seed} · step ${index + 1} of ${S}`,
        `tan(${step.name}) = ${formulas.join(" + ")}`,
        `tan(${step.name}) = ${numbers.join(" + ")} = ${shown(step.tangent)}`,
        `d${step.name}/d${sweep.seed} = ${shown(step.tangent)}`];
    }
    if (sweep) {
      const reverse = trace.gradient[sweep.input];
      const same = sweep.index.length || !isScalar(reverse) ? "the same number" : `the same, ${sweep.input}.grad = ${shown(reverse)}`;
      return ["done", `tan(${nameOf.get(outputNode) || output}) = d${output}/d${sweep.seed}`,
        `d${output}/d${sweep.seed} = ${shown(sweep.result)}`,
        `The backward sweep gives ${same}, and every other gradient with it; forward mode needs ${TANGENT_SWEEPS.toLocaleString("en")} tangent sweep${TANGENT_SWEEPS === 1 ? "" : "s"}, one per input element.`];
    }
    if (phase === "seed") {
      return ["backward · the seed", `${nameOf.get(outputNode) || output}.grad = 1`,
        `d${output}/d${output} = 1: the sweep starts at the output`,
        "then each node passes its grad back along its edges, times the local derivative"];
    }
    if (phase === "backward") {
      const index = position - SEED - 1;
      const step = backward[index];
      let previous = null;
      for (let earlier = index - 1; earlier >= 0; earlier--) {
        if (backward[earlier].target_id === step.target_id) { previous = backward[earlier].total; break; }
      }
      const sign = times(step.adjoint, step.local);
      const total = shown(step.total);
      if (!isScalar(step.contribution) || !isScalar(step.adjoint)) {
        return [`backward · step ${index + 1} of ${S}`,
          `${step.target}.grad += ${step.via}.grad${sign}${formulaOf(step)}`,
          `${step.via}'s grad, ${inWords(step.adjoint)}, flows back along this edge: it adds ${inWords(step.contribution)} to ${step.target}'s grad`,
          previous === null ? `${step.target}.grad is now ${inWords(step.total)}`
            : `${step.target}.grad is now what it was plus this part: ${inWords(step.total)}`];
      }
      return [`backward · step ${index + 1} of ${S}`,
        `${step.target}.grad += ${step.via}.grad${sign}${formulaOf(step)}`,
        `${step.target}.grad += ${shown(step.adjoint)}${sign}${shown(step.local)} = ${shown(step.contribution)}`,
        previous === null ? `${step.target}.grad is now ${total}`
          : `${step.target}.grad is now ${shown(previous)} + ${shown(step.contribution)} = ${total}`];
    }
    const gradients = Object.entries(trace.gradient).map(([name, value]) => `d${output}/d${name} = ${shown(value)}`);
    return ["done", "the gradient", gradients.join(" · ") || "no inputs", "every input's grad is final"];
  }

  /* ---------- position, playing ---------- */

  let position = 0;
  let timer = null;
  let selected = -1;
  const slider = byId("slider");
  slider.max = String(DONE);

  function go(target, follow = true) {
    position = Math.max(0, Math.min(DONE, target));
    const state = stateAt(position);
    applyState(state);
    const [phase, update, numbers, after] = describe(position);
    byId("phase").textContent = phase;
    byId("update").textContent = update;
    byId("numbers").textContent = numbers;
    byId("after").textContent = after;
    byId("now").className = `phase-${state.phase}`;
    slider.value = String(position);
    markDetailSteps();
    if (follow) followCurrent(state);
  }

  function setPlaying(playing) {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    byId("play").classList.toggle("on", playing);
    if (playing) tick();
  }

  function tick() {
    go(position + 1);
    if (position >= DONE) setPlaying(false);
    else timer = setTimeout(tick, BASE_DELAY / Number(byId("speed").value));
  }

  function togglePlay() {
    if (timer !== null) setPlaying(false);
    else {
      if (position >= DONE) go(0, false);
      setPlaying(true);
    }
  }

  /* ---------- pan and zoom: one transform on the drawing, no work per node ---------- */

  /* The drawing sits in its own composited layer: panning and zooming change only that
     layer's transform, so they cost the same at 20 nodes and at 2,000. After a zoom settles,
     the layer is drawn again at the new scale, sharp. */
  const MAX_SCALE = 8;
  const camera = { x: 0, y: 0, scale: 1 };  // the drawing's point at the stage's corner
  let frame = null;
  let glide = null;
  let settle = null;

  function draw() {
    frame = null;
    const dx = -(camera.x - view.whole.x) * camera.scale;
    const dy = -(camera.y - view.whole.y) * camera.scale;
    view.svg.style.transform = `translate(${dx}px, ${dy}px) scale(${camera.scale / view.base})`;
  }

  function schedule() {
    if (frame === null) frame = requestAnimationFrame(draw);
  }

  function sharpen() {
    clearTimeout(settle);
    settle = setTimeout(() => {
      const svg = view.svg;
      svg.style.willChange = "auto";
      requestAnimationFrame(() => { svg.style.willChange = "transform"; });
    }, 200);
  }

  function stageSize() {
    const bounds = stage.getBoundingClientRect();
    return { left: bounds.left, top: bounds.top, width: Math.max(1, bounds.width), height: Math.max(1, bounds.height) };
  }

  function fit() {
    const size = stageSize();
    const { whole } = view;
    const scale = Math.min(size.width / (whole.w * 1.06), size.height / (whole.h * 1.06), 2.2);
    Object.assign(camera, { scale, x: whole.x + whole.w / 2 - size.width / scale / 2,
      y: whole.y + whole.h / 2 - size.height / scale / 2 });
    stopGlide();
    schedule();
    sharpen();
  }

  /* Zoom by `factor` (above 1: out) about the stage's point (left, top) in pixels. */
  function zoomAt(factor, left, top) {
    const size = stageSize();
    const least = Math.min(size.width / view.whole.w, size.height / view.whole.h) / 4;
    const scale = Math.min(MAX_SCALE, Math.max(least, camera.scale / factor));
    camera.x += left / camera.scale - left / scale;
    camera.y += top / camera.scale - top / scale;
    camera.scale = scale;
    stopGlide();
    schedule();
    sharpen();
  }

  function zoomCentre(factor) {
    const size = stageSize();
    zoomAt(factor, size.width / 2, size.height / 2);
  }

  function stopGlide() {
    if (glide !== null) cancelAnimationFrame(glide);
    glide = null;
  }

  /* The drawing's coordinates of an element: its box through the graph's own transform. */
  function boundsOf(target) {
    const box = target.getBBox();
    const matrix = view.graphGroup && view.graphGroup.transform.baseVal.consolidate();
    const m = matrix ? matrix.matrix : { a: 1, d: 1, e: 0, f: 0 };
    return { x: m.a * box.x + m.e, y: m.d * box.y + m.f, w: m.a * box.width, h: m.d * box.height };
  }

  function around(targets) {
    const all = targets.map(boundsOf);
    return { left: Math.min(...all.map((b) => b.x)), top: Math.min(...all.map((b) => b.y)),
      right: Math.max(...all.map((b) => b.x + b.w)), bottom: Math.max(...all.map((b) => b.y + b.h)) };
  }

  /* Glide so that the current boxes (and edge) are in view, when they are not. */
  function followCurrent(state) {
    const targets = [];
    state.boxClass.forEach((name, index) => { if (/current|source/.test(name) && view.boxes[index]) targets.push(view.boxes[index]); });
    state.edgeClass.forEach((name, index) => { if (name === "current" && view.edgeElements[index]) targets.push(view.edgeElements[index]); });
    if (targets.length === 0) return;
    const { left, top, right, bottom } = around(targets);
    const size = stageSize();
    const width = size.width / camera.scale;
    const height = size.height / camera.scale;
    /* the least move that brings them in, with a margin; centred if they cannot all fit */
    const shift = (low, high, start, length) => {
      const margin = Math.min(length * 0.08, 40 / camera.scale);
      if (high - low > length - 2 * margin) return (low + high) / 2 - length / 2;
      if (low < start + margin) return low - margin;
      if (high > start + length - margin) return high + margin - length;
      return start;
    };
    const goal = { x: shift(left, right, camera.x, width), y: shift(top, bottom, camera.y, height) };
    if (goal.x !== camera.x || goal.y !== camera.y) glideTo({ ...goal, scale: camera.scale });
  }

  /* Move the camera to `goal` ({x, y, scale}) in a quarter of a second. */
  function glideTo(goal) {
    const start = { ...camera };
    const began = performance.now();
    stopGlide();
    const move = (now) => {
      const t = Math.min(1, (now - began) / 260);
      const eased = 1 - (1 - t) * (1 - t);
      for (const key of ["x", "y", "scale"]) camera[key] = start[key] + (goal[key] - start[key]) * eased;
      draw();
      glide = t < 1 ? requestAnimationFrame(move) : null;
      if (t === 1 && goal.scale !== start.scale) sharpen();
    };
    glide = requestAnimationFrame(move);
  }

  /* Centre `target` (an element of the drawing), zoomed in enough to read it. */
  function centreOn(target) {
    const bounds = boundsOf(target);
    const size = stageSize();
    const readable = Math.min(1, size.width / (bounds.w * 3), size.height / (bounds.h * 3));
    const scale = Math.min(MAX_SCALE, Math.max(camera.scale, readable));
    glideTo({ scale, x: bounds.x + bounds.w / 2 - size.width / scale / 2,
      y: bounds.y + bounds.h / 2 - size.height / scale / 2 });
  }

  let press = null;
  stage.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || event.target.closest("#zoom, #fold-bar")) return;
    press = { x: event.clientX, y: event.clientY, camera: { ...camera }, moved: false,
      box: event.target.closest ? event.target.closest("g.node") : null };
    stage.setPointerCapture(event.pointerId);
  });
  stage.addEventListener("pointermove", (event) => {
    if (!press) return;
    const dx = event.clientX - press.x;
    const dy = event.clientY - press.y;
    if (!press.moved && Math.hypot(dx, dy) < 4) return;
    press.moved = true;
    stage.classList.add("dragging");
    camera.x = press.camera.x - dx / camera.scale;
    camera.y = press.camera.y - dy / camera.scale;
    stopGlide();
    schedule();
  });
  stage.addEventListener("pointerup", () => {
    if (press && !press.moved) selectBox(press.box);
    press = null;
    stage.classList.remove("dragging");
  });
  stage.addEventListener("pointercancel", () => { press = null; stage.classList.remove("dragging"); });
  stage.addEventListener("wheel", (event) => {
    event.preventDefault();
    const unit = event.deltaMode === 1 ? 0.05 : 0.0015;
    const size = stageSize();
    zoomAt(Math.exp(event.deltaY * unit), event.clientX - size.left, event.clientY - size.top);
  }, { passive: false });

  /* ---------- folded groups: each opens in place, its expansion laid out beforehand ---------- */

  /* Show drawing `index` in place of this one, so that the boxes of `members` (graph nodes)
     stay where they were on the screen. */
  function swapTo(index, members) {
    const before = view;
    const anchorBefore = anchorOf(before, members);
    if (!drawings[index]) {
      const template = byId(`drawing-${index}`);
      const svg = document.importNode(template.content.querySelector("svg"), true);
      stage.insertBefore(svg, byId("zoom"));
      drawings[index] = makeDrawing(data.drawings[index], svg);
    } else {
      stage.insertBefore(drawings[index].svg, byId("zoom"));
    }
    selectBox(null);
    before.svg.remove();
    view = drawings[index];
    view.shownClass = view.nodes.map(() => "#");  // every box and edge is drawn anew
    view.shownGrad = view.nodes.map(() => "#");
    view.shownEdge = view.edges.map(() => "#");
    const anchorAfter = anchorOf(view, members);
    if (anchorBefore && anchorAfter) {
      const screenX = (anchorBefore.x - camera.x) * camera.scale;
      const screenY = (anchorBefore.y - camera.y) * camera.scale;
      camera.x = anchorAfter.x - screenX / camera.scale;
      camera.y = anchorAfter.y - screenY / camera.scale;
      schedule();
      sharpen();
    } else fit();
    go(position, false);
    if (index > 0) showOpened(members);
    byId("fold-bar").hidden = index === 0;
    byId("fold-name").textContent = data.drawings[index].expands || "";
  }

  /* The centre of the boxes that show any of `members` in `drawing`. */
  function anchorOf(drawing, members) {
    const targets = [];
    for (const member of members) {
      for (const box of drawing.boxesOf.get(member) || []) if (drawing.boxes[box]) targets.push(drawing.boxes[box]);
    }
    if (targets.length === 0) return null;
    const previous = view;
    view = drawing;
    const { left, top, right, bottom } = around(targets);
    view = previous;
    return { x: (left + right) / 2, y: (top + bottom) / 2 };
  }

  /* A halo that fades around `targets`, elements of the drawing; returns their bounds. */
  function haloAround(targets) {
    const bounds = around(targets);
    const { left, top, right, bottom } = bounds;
    const halo = document.createElementNS(SVG_NS, "rect");
    const pad = 8;
    for (const [name, value] of Object.entries({ x: left - pad, y: top - pad, width: right - left + 2 * pad,
      height: bottom - top + 2 * pad, rx: 10, class: "halo" })) halo.setAttribute(name, String(value));
    view.svg.append(halo);
    halo.addEventListener("animationend", () => halo.remove());
    return bounds;
  }

  /* A halo around the boxes of an opened group, brought into view. */
  function showOpened(members) {
    const targets = [];
    for (const member of members) {
      for (const box of view.boxesOf.get(member) || []) if (view.boxes[box]) targets.push(view.boxes[box]);
    }
    if (targets.length === 0) return;
    const { left, top, right, bottom } = haloAround(targets);
    const size = stageSize();
    const scale = Math.min(camera.scale, size.width / ((right - left) * 1.2), size.height / ((bottom - top) * 1.2));
    if (scale < camera.scale || left < camera.x || top < camera.y
      || right > camera.x + size.width / camera.scale || bottom > camera.y + size.height / camera.scale) {
      Object.assign(camera, { scale, x: (left + right) / 2 - size.width / scale / 2, y: (top + bottom) / 2 - size.height / scale / 2 });
      schedule();
      sharpen();
    }
  }

  function expand(name, members) {
    const index = data.drawings.findIndex((info) => info.expands === name);
    if (index > 0) swapTo(index, members);
  }

  function foldBack() {
    const members = data.drawings[drawings.indexOf(view)].nodes.flatMap((node) => node.members);
    swapTo(0, members);
  }

  /* ---------- details: a node's chain-rule sum, an input's paths ---------- */

  const details = byId("details");

  function row(table, cells, className) {
    const line = element("tr", className);
    for (const cell of cells) line.append(element("td", cell[1] || "", cell[0]));
    table.append(line);
    return line;
  }

  function section(title) {
    const part = element("section", "part");
    part.append(element("h3", "", title));
    details.append(part);
    return part;
  }

  function selectBox(box) {
    const index = box ? view.boxes.indexOf(box) : -1;
    if (selected >= 0 && view.boxes[selected]) setClass(view.boxes[selected], "node", view.shownClass[selected]);
    selected = index;
    if (index >= 0) setClass(view.boxes[index], "node", `${view.shownClass[index]} selected`);
    showDetails();
  }

  function showDetails() {
    details.replaceChildren();
    clearFocus();
    if (selected < 0) {
      if (data.wrt && data.paths[data.wrt]) showPaths(data.wrt);
      else showHelp();
      return;
    }
    const node = view.nodes[selected];
    const last = representative(selected);
    const head = element("div", "node-head");
    head.append(element("span", `kind kind-${node.kind}`, node.opens ? "folded group" : node.kind));
    head.append(element("span", "node-title", node.label));
    details.append(head);
    const facts = element("table", "facts");
    if (nameOf.has(last)) row(facts, [["name in the trace", "key"], [nameOf.get(last), "mono"]]);
    if (node.names.length) row(facts, [["named", "key"], [node.names.join(", "), "mono"]]);
    row(facts, [["source", "key"], [node.source, "mono"]]);
    if (node.folded) row(facts, [["folds", "key"], [node.folded, "mono"]]);
    row(facts, [["value", "key"], [shown(node.value), "mono"]]);
    row(facts, [["grad", "key"], [node.adjoint === null ? "none: nothing to differentiate" : shown(node.adjoint), "mono grad"]]);
    details.append(facts);
    if (node.opens) showGroup(node, selected);
    if (node.instances && node.instances.length) showInstances(node);
    if (sweep) showTangentSum(last);
    else showSum(last);
    if (!node.opens) showLocals(last);
    const inputName = node.kind === "input" ? nameOfInput(node) : null;
    if (inputName && data.paths[inputName]) showPaths(inputName, true);
    markDetailSteps();
  }

  function showHelp() {
    const part = section("how to read it");
    for (const text of [
      "Each box shows its value and its grad, the derivative of the output with respect to it; each edge its local derivative.",
      "The forward sweep evaluates the boxes in order; the backward sweep adds, edge by edge, grad × local derivative into the grad of the box the edge comes from.",
      "The sweep menu steps forward mode instead: one input element's tangent pushed forward, each box's tangent the sum over its arguments of their tangent × local derivative. It ends in that element's gradient; forward mode needs one such sweep per input element, where one backward sweep gives them all.",
      "Click a box for its chain-rule sum; click an input (or its name above) for its paths; a double box is a folded group: click it to open it. / or Ctrl-F finds a name.",
    ]) part.append(element("p", "", text));
    for (const note of data.notes) part.append(element("p", "note", note));
  }

  /* A folded group: the total derivative through it along each edge in, and the button that
     opens it in place. */
  function showGroup(node, index) {
    const part = section("total derivatives through the group");
    const table = element("table", "locals");
    for (const edgeIndex of view.inEdges[index]) {
      const edge = view.edges[edgeIndex];
      const tail = view.nodes[view.boxIndex.get(edge.source)];
      const producer = tail ? (tail.names[0] || tail.label) : edge.source;
      row(table, [[`∂${node.label}/∂${producer}`, "mono"], [edge.label.trim() || shown(edge.local_derivative), "mono num"]]);
    }
    part.append(table);
    part.append(element("p", "note", "Each is the sum over the paths inside the group of their products, so the paths through the folded box still sum to the gradient."));
    const available = data.drawings.some((info) => info.expands === node.opens);
    if (available) {
      const button = element("button", "open-group", `open ${node.opens} in place`);
      button.type = "button";
      button.addEventListener("click", () => expand(node.opens, node.members));
      part.append(button);
    } else {
      part.append(element("p", "note", `gad graph … --expand ${node.opens} draws it open`));
    }
  }

  /* A run of repeated groups folded as one box: step through its groups, each with the value
     it hands on to the next and that value's grad. */
  function showInstances(node) {
    const part = section(`the ${node.instances.length} repeated groups, one by one`);
    const bar = element("div", "instance-steps");
    const previous = element("button", "", "◀");
    const next = element("button", "", "▶");
    const where = element("span", "mono");
    previous.type = next.type = "button";
    previous.setAttribute("aria-label", "previous group");
    next.setAttribute("aria-label", "next group");
    bar.append(previous, where, next);
    const facts = element("table", "facts");
    part.append(bar, facts);
    let at = 0;
    const show = () => {
      const instance = node.instances[at];
      where.textContent = ` ${instance.name} (${at + 1} of ${node.instances.length}) `;
      facts.replaceChildren();
      row(facts, [["hands on", "key"], [instance.value, "mono"]]);
      if (instance.adjoint) row(facts, [["its grad", "key"], [instance.adjoint, "mono grad"]]);
      previous.disabled = at === 0;
      next.disabled = at === node.instances.length - 1;
    };
    previous.addEventListener("click", () => { at -= 1; show(); });
    next.addEventListener("click", () => { at += 1; show(); });
    show();
    part.append(element("p", "note", "They have the same ops, wiring and shapes; the box's edges carry the total derivative through all of them, so paths through it still sum to the gradient."));
  }

  /* The adjoint as the sum over the node's consumers, one backward step each. */
  function showSum(last) {
    const name = graphName(last);
    if (last === outputNode) {
      section(`${name}.grad`).append(element("p", "", `= 1: d${data.output_name}/d${data.output_name}, the seed of the backward sweep`));
      return;
    }
    const steps = [];
    backward.forEach((step, at) => { if (step.target_id === last) steps.push(at); });
    if (steps.length === 0) return;
    const part = section(`${name}.grad = the sum over its consumers`);
    const table = element("table", "sum");
    for (const at of steps) {
      const step = backward[at];
      const sign = times(step.adjoint, step.local);
      const line = row(table, [[`${step.via}.grad${sign}${formulaOf(step)}`, "mono"],
        [`${shown(step.adjoint)}${sign}${shown(step.local)}`,
          sign === " × " ? "mono num whole" : "mono num"],
        [`${shown(step.contribution)}`, "mono num"]], "step-row");
      line.dataset.step = String(at);
      line.title = "go to this step of the backward sweep";
      line.addEventListener("click", () => { setPlaying(false); go(SEED + 1 + at); });
    }
    const total = backward[steps[steps.length - 1]].total;
    row(table, [[`${name}.grad`, "mono strong"], ["", ""], [shown(total), "mono num strong"]], "total-row");
    part.append(table);
  }

  /* In a tangent sweep: the node's tangent as the sum over its arguments, one step. */
  function showTangentSum(last) {
    const name = graphName(last);
    if (last === sweep.id) {
      section(`tan(${name})`).append(element("p", "", `= ${seedText(sweep)}: the seed of this sweep, d${sweep.seed}/d${sweep.seed}`));
      return;
    }
    const at = sweep.steps.findIndex((step) => step.id === last);
    if (at < 0) {
      section(`tan(${name})`).append(element("p", "", `none: ${name} does not depend on ${sweep.input} along edges that carry a gradient`));
      return;
    }
    const step = sweep.steps[at];
    const part = section(`tan(${name}) = the sum over its arguments`);
    const table = element("table", "sum");
    for (const term of step.terms) {
      const sign = times(term.tangent, term.local);
      const line = row(table, [[`tan(${term.argument})${sign}${term.formula || `∂${step.name}/∂${term.argument}`}`, "mono"],
        [`${shown(term.tangent)}${sign}${shown(term.local)}`, sign === " × " ? "mono num whole" : "mono num"],
        [shown(term.contribution), "mono num"]], "step-row");
      line.dataset.step = String(at);
      line.title = "go to this step of the tangent sweep";
      line.addEventListener("click", () => { setPlaying(false); go(SEED + 1 + at); });
    }
    row(table, [[`tan(${name})`, "mono strong"], ["", ""], [shown(step.tangent), "mono num strong"]], "total-row");
    part.append(table);
  }

  function showLocals(last) {
    const steps = backward.filter((step) => step.via_id === last);
    if (steps.length === 0) return;
    const part = section("local derivatives along its edges");
    const table = element("table", "locals");
    for (const step of steps) {
      row(table, [[`∂${step.via}/∂${step.target}`, "mono"], [formulaOf(step), "mono"], [shown(step.local), "mono num"]]);
    }
    part.append(table);
  }

  /* The rows of the chosen sweep's steps: those not taken yet pale, the current one lit. */
  function markDetailSteps() {
    const phase = phaseOf(position);
    const stepping = phase === "backward" || phase === "tangent";
    const applied = stepping ? position - SEED : (phase === "done" ? S : 0);
    for (const line of details.querySelectorAll("tr.step-row")) {
      const at = Number(line.dataset.step);
      line.classList.toggle("future", phase !== "overview" && at >= applied);
      line.classList.toggle("now", stepping && at === applied - 1);
    }
  }

  /* The rows of `gad paths NAME`; hovering a row shows that path in its colour. */
  function showPaths(name, below) {
    const summary = data.paths[name];
    if (!below) {
      const head = element("div", "node-head");
      head.append(element("span", "kind kind-input", "input"));
      head.append(element("span", "node-title", name));
      details.append(head);
    }
    const part = section(`paths from ${name} to ${data.output_name}: ${counted(summary.path_count)}`);
    part.classList.add("paths");
    const table = element("table", "path-table");
    const header = element("tr");
    for (const title of ["#", "path · its local gradients", "product", "share"]) header.append(element("th", "", title));
    table.append(header);
    summary.paths.forEach((path, index) => {
      const colour = index < data.colours.paths.length ? data.colours.paths[index] : data.colours.rest;
      const line = element("tr", "path-row");
      const swatch = element("td", "swatch", String(index + 1));
      swatch.style.setProperty("--colour", colour);
      const chain = element("td", "chain", path.chain);
      chain.append(element("div", "factors", path.factors));
      line.append(swatch, chain, product(path.product),
        element("td", "mono num", share(path.product, summary.gradient)));
      line.addEventListener("mouseenter", () => focusPath(path, colour));
      line.addEventListener("mouseleave", clearFocus);
      table.append(line);
    });
    if (summary.rest.count !== 0) {
      const line = element("tr", "path-row rest");
      const swatch = element("td", "swatch", "");
      swatch.style.setProperty("--colour", data.colours.rest);
      line.append(swatch, element("td", "chain", `${summary.paths.length ? "the other" : "all"} ${counted(summary.rest.count)} path${summary.rest.count === 1 ? "" : "s"}`),
        product(summary.rest.sum),
        element("td", "mono num", share(summary.rest.sum, summary.gradient)));
      table.append(line);
    }
    const sum = element("tr", "total-row");
    sum.append(element("td"), element("td", "strong", `backward pass: d${data.output_name}/d${name}`),
      element("td", "mono num strong", shown(summary.gradient, 10)), element("td"));
    table.append(sum);
    part.append(table);
    if (summary.unlisted) part.append(element("p", "note", summary.unlisted));
  }

  /* A product's cell; an array summarised by path_rows names its first numbers on hover. */
  function product(item) {
    const cell = element("td", "mono num", shown(item, 10));
    if (item && item.first) cell.title = `first numbers: ${item.first.map((value) => number(value, 4)).join(", ")}, …`;
    return cell;
  }

  /* A path count: an integer, or past 2^53 its digits or an estimate, as a string. */
  const counted = (count) => (typeof count === "number" ? count.toLocaleString("en") : count);

  function share(product, gradient) {
    if (!isScalar(product) || !isScalar(gradient) || toNumber(gradient) === 0) return "";
    const ratio = toNumber(product) / toNumber(gradient);
    return Math.abs(ratio) < 100 ? `${(100 * ratio).toFixed(1)}%` : `${number(ratio, 2)}×`;
  }

  let focused = [];
  function focusPath(path, colour) {
    clearFocus();
    const marked = new Set();
    for (const node of path.ids) {
      for (const box of view.boxesOf.get(node) || []) if (view.boxes[box]) marked.add(view.boxes[box]);
    }
    path.slots.forEach((slot, index) => {
      const found = drawnEdge(view, path.ids[index], path.ids[index + 1], slot);
      if (found >= 0 && view.edgeElements[found]) marked.add(view.edgeElements[found]);
    });
    for (const target of marked) target.classList.add("on-path");
    focused = [...marked];
    view.svg.style.setProperty("--focus", colour);
    view.svg.classList.add("focus");
  }

  function clearFocus() {
    for (const target of focused) target.classList.remove("on-path");
    focused = [];
    view.svg.classList.remove("focus");
  }

  /* ---------- the page around the drawing ---------- */

  /* The headline on one line (the whole of it on hover), and the inputs whose paths the page
     lists: a chip each for a few, else one button that opens their list. */
  function header() {
    const output = view.outputBox >= 0 ? view.nodes[view.outputBox] : null;
    const headline = byId("headline");
    headline.append(element("span", "output-name", data.output_name));
    headline.append(element("span", "", output ? ` = ${output.source}` : ""));
    if (output) headline.append(element("span", "output-value", ` = ${shown(output.value)}`));
    headline.title = headline.textContent;
    const inputs = byId("inputs");
    const names = Object.keys(data.paths);
    if (names.length > CHIPS) {
      inputsMenu(names);
      return;
    }
    if (names.length) inputs.prepend(element("span", "hint", "paths of"));
    for (const name of names) {
      const chip = element("button", "chip", name);
      chip.type = "button";
      chip.addEventListener("click", () => { showInput(name); chip.blur(); });
      inputs.append(chip);
    }
  }

  /* An input's box selected (its paths below its sum), or its paths alone where it is not drawn. */
  function showInput(name) {
    const box = view.nodes.findIndex((node) => node.kind === "input" && nameOfInput(node) === name);
    if (box >= 0) selectBox(view.boxes[box]);
    else { selectBox(null); details.replaceChildren(); showPaths(name); }
  }

  /* Many inputs: `paths of 21 inputs ▾` opens their list, with a field that filters it; a
     chosen input's box is found as the search finds it. */
  function inputsMenu(names) {
    const inputIds = new Map(forward.filter((step) => step.kind === "input").map((step) => [step.name, step.id]));
    const [button, pop, field] = ["inputs-button", "inputs-pop", "inputs-field"].map(byId);
    byId("inputs-menu").hidden = false;
    button.textContent = `paths of ${names.length} inputs ▾`;
    const choices = names.map((name) => {
      const count = data.paths[name].path_count;
      return { name, what: `${counted(count)} path${count === 1 ? "" : "s"}${data.paths[name].unlisted ? ", not listed here" : ""}` };
    });
    const open = (opened) => { pop.hidden = !opened; button.setAttribute("aria-expanded", opened); };
    finder(field, byId("inputs-list"), (query) => choices.filter((choice) => choice.name.toLowerCase().includes(query)),
      (choice) => jumpTo({ kind: "input", target: inputIds.get(choice.name) }, true) || showInput(choice.name),
      true, () => open(false));
    button.addEventListener("mousedown", (event) => event.preventDefault());  // the field keeps its focus
    button.addEventListener("click", () => {
      if (!pop.hidden) return field.blur();
      open(true);
      field.value = "";
      field.focus();  // which lists them all
    });
  }

  /* ---------- finding a name: the search box, and the list of many inputs ---------- */

  /* A field and the list under it: typing lists what `find` returns for the text (lower case),
     ↑ ↓ move, Enter or a click chooses, Escape or leaving the field closes. With `always`, an
     empty field lists too; `closed` is told when the list closes. */
  function finder(field, list, find, choose, always = false, closed = () => {}) {
    let choices = [];
    let active = 0;
    const items = () => list.querySelectorAll(".choice");
    function render() {
      const query = field.value.trim().toLowerCase();
      const found = query || always ? find(query) : [];
      choices = found.slice(0, CHOICES);
      active = 0;
      list.replaceChildren(...choices.map((choice, index) => {
        const item = element("li", "choice");
        item.id = `${list.id}-${index}`;
        item.setAttribute("role", "option");
        item.append(element("span", "choice-name", choice.name), element("span", "choice-what", choice.what));
        item.addEventListener("click", () => pick(index));
        return item;
      }));
      const more = found.length - choices.length;
      if (more || (query && !found.length)) list.append(element("li", "choice-note", more ? `${more} more: type more of the name` : "no name matches"));
      list.hidden = !list.firstChild;
      field.setAttribute("aria-expanded", !list.hidden);
      mark();
    }
    function mark() {
      items().forEach((item, index) => {
        item.classList.toggle("active", index === active);
        item.setAttribute("aria-selected", index === active);
      });
      if (items()[active]) {
        field.setAttribute("aria-activedescendant", items()[active].id);
        items()[active].scrollIntoView({ block: "nearest" });
      }
    }
    function pick(index) {
      field.blur();
      if (choices[index]) choose(choices[index]);
    }
    field.addEventListener("input", render);
    field.addEventListener("focus", render);
    field.addEventListener("blur", () => {
      list.hidden = true;
      field.setAttribute("aria-expanded", false);
      closed();
    });
    list.addEventListener("mousedown", (event) => event.preventDefault());  // the field keeps its focus until the click
    field.addEventListener("keydown", (event) => {
      const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
      if (step) {
        active = (active + step + choices.length) % Math.max(1, choices.length);
        mark();
      } else if (event.key === "Enter") pick(active);
      else if (event.key === "Escape") field.blur();
      else return;
      event.preventDefault();
    });
  }

  /* What the search box finds, from every drawing the page carries: each input, named node and
     step's name (v1, v2, ...) by name, each folded group by its full name or its label. */
  function searchIndex() {
    const entries = [];
    const seen = new Set();
    const opLabel = new Map();  // graph node -> the label of a box of its own
    const foldedIn = new Map();  // graph node -> the group folding it in the whole picture
    const add = (name, target, kind, what, keys = [name]) => {
      if (!name || seen.has(`${target}:${name}`)) return;
      seen.add(`${target}:${name}`);
      entries.push({ name, target, kind, what, keys: keys.map((key) => key.toLowerCase()), order: entries.length });
    };
    const where = (node) => (foldedIn.has(node) ? ` · in ${foldedIn.get(node)}` : "");
    const named = [];
    data.drawings.forEach((info) => info.nodes.forEach((node) => {
      if (node.opens && info.expands === null) node.members.forEach((member) => foldedIn.set(member, node.opens));
      if (node.opens) return;
      for (const member of node.members) if (!opLabel.has(member)) opLabel.set(member, node.label);
      const last = node.members[node.members.length - 1];
      named.push(...(node.kind === "input" ? [nameOfInput(node)] : node.names).map((name) => [name, last, node.kind === "input"]));
    }));
    for (const [name, node, input] of named) add(name, node, input ? "input" : "node", `${input ? "input" : opLabel.get(node)}${where(node)}`);
    for (const step of forward) {
      if (opLabel.has(step.id) || foldedIn.has(step.id)) {
        add(step.name, step.id, step.kind === "input" ? "input" : "node", `${step.kind === "input" ? "input" : opLabel.get(step.id) || "node"}${where(step.id)}`);
      }
    }
    data.drawings.forEach((info) => info.nodes.forEach((node) => {
      if (node.opens) add(node.opens, node.opens, "group", `group · ${node.folded}`, [node.opens, node.label]);
    }));
    return entries;
  }

  /* The entries whose name holds `query`: the whole name first, then its start, then anywhere;
     inputs before nodes before groups. */
  function findNames(entries, query) {
    const rank = (entry) => Math.min(...entry.keys.map((key) => (key === query ? 0
      : key.startsWith(query) ? 1 : key.includes(query) ? 2 : 3)));
    const kind = { input: 0, node: 1, group: 2 };
    return entries.map((entry) => [rank(entry), entry]).filter(([at]) => at < 3)
      .sort(([a, one], [b, other]) => a - b || kind[one.kind] - kind[other.kind] || one.order - other.order)
      .map(([, entry]) => entry);
  }

  /* Jump to what the search chose: its box in the drawing shown, else in a drawing where it
     has a box of its own (its folded group opened in place, as a click opens it), else the box
     of the group that folds it (unless `ownBox`); selected as a click selects it, and centred.
     Returns whether it found a box. */
  function jumpTo(entry, ownBox = false) {
    const current = drawings.indexOf(view);
    const group = entry.kind === "group";
    const folded = (opens) => data.drawings[0].nodes.find((node) => node.opens === opens).members;
    if (group && data.drawings[current].expands === entry.target) {
      showOpened(folded(entry.target));  // open already
      return true;
    }
    const own = (info) => info.nodes.findIndex((node) => (group ? node.opens === entry.target
      : !node.opens && node.members.includes(entry.target)));
    const where = [current, 0, ...data.drawings.keys()].find((index) => own(data.drawings[index]) >= 0);
    if (where === undefined && ownBox) return false;
    if (where === 0 && current) foldBack();
    else if (where !== current && where !== undefined) {
      expand(data.drawings[where].expands, folded(data.drawings[where].expands));
    }
    const box = view.boxes[where === undefined ? view.nodes.findIndex((node) => node.members.includes(entry.target)) : own(view.info)];
    if (!box) return false;
    selectBox(box);
    haloAround([box]);
    centreOn(box);
    return true;
  }

  function search() {
    const entries = searchIndex();
    finder(byId("search-field"), byId("search-list"), (query) => findNames(entries, query), jumpTo);
  }

  /* The menu of sweeps: the backward sweep, then each tangent sweep the page carries; what
     it does not carry is named in a last entry that cannot be chosen. */
  function sweepMenu() {
    const menu = byId("sweep");
    const entry = (value, text) => {
      const option = element("option", "", text);
      option.value = value;
      menu.append(option);
      return option;
    };
    entry("reverse", "backward (reverse mode)");
    tangents.sweeps.forEach((chosen, index) => entry(String(index), `forward: tangents of ${chosen.seed}`));
    const left = Object.values(tangents.left_out).reduce((sum, count) => sum + count, 0);
    if (left || (tangents.note && tangents.sweeps.length === 0)) {
      const more = left ? `${left.toLocaleString("en")} more tangent sweep${left === 1 ? "" : "s"}: gad trace --mode forward` : "forward: not available";
      const option = entry("", more);
      option.disabled = true;
      menu.title = tangents.note;
    }
    byId("sweep-choice").hidden = !trace.tangents;
    menu.addEventListener("change", () => {
      setPlaying(false);
      chooseSweep(menu.value);
      menu.blur();
    });
  }

  function chooseSweep(value) {
    sweep = value === "reverse" ? null : tangents.sweeps[Number(value)];
    S = sweep ? sweep.steps.length : backward.length;
    DONE = F + S + 2;
    slider.max = String(DONE);
    markTrack();
    document.body.classList.toggle("forward-mode", sweep !== null);
    go(position > F ? SEED : position, false);
    selectBox(selected >= 0 ? view.boxes[selected] : null);  // its details, for this sweep
  }

  /* The slider's two parts: the evaluation, then the chosen sweep. */
  function markTrack() {
    byId("track").style.setProperty("--forward", `${DONE > 0 ? 100 * (F + 0.5) / DONE : 50}%`);
    byId("mark-backward").textContent = sweep ? `tangents of ${sweep.seed}` : "backward";
  }

  function controls() {
    const actions = { first: () => go(0), back: () => go(position - 1), next: () => go(position + 1),
      last: () => go(DONE), play: togglePlay, fit, "zoom-in": () => zoomCentre(1 / 1.3),
      "zoom-out": () => zoomCentre(1.3), "fold-back": foldBack };
    for (const [id, action] of Object.entries(actions)) {
      byId(id).addEventListener("click", (event) => {
        if (["first", "back", "next", "last"].includes(id)) setPlaying(false);
        action();
        event.currentTarget.blur();
      });
    }
    slider.addEventListener("input", () => { setPlaying(false); go(Number(slider.value)); });
    byId("speed").addEventListener("change", (event) => event.currentTarget.blur());
    sweepMenu();
    markTrack();
    if (!data.trace) byId("controls").classList.add("static");
    const searchField = byId("search-field");
    document.addEventListener("keydown", (event) => {
      const typing = event.target.matches("input[type=search]");
      const find = event.key === "/" || ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "f");
      if (find && !event.altKey && !typing) {  // a second Ctrl-F, in the field, is the browser's own
        event.preventDefault();
        searchField.focus();
        searchField.select();
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (typing || event.target.tagName === "SELECT") return;
      if ((event.key === "Enter" || event.key === " ") && event.target.matches("g.node")) {
        event.preventDefault();
        selectBox(event.target);
        return;
      }
      const keys = { ArrowRight: () => { setPlaying(false); go(position + 1); },
        ArrowLeft: () => { setPlaying(false); go(position - 1); },
        " ": togglePlay, Home: () => { setPlaying(false); go(0); }, End: () => { setPlaying(false); go(DONE); },
        "+": () => zoomCentre(1 / 1.3), "=": () => zoomCentre(1 / 1.3), "-": () => zoomCentre(1.3),
        "0": fit, Escape: () => selectBox(null) };
      const action = keys[event.key];
      if (!action) return;
      event.preventDefault();
      action();
    });
  }

  /* ---------- light or dark: the reader's system setting, until the button says otherwise ---------- */

  function themes() {
    const button = byId("theme");
    const system = window.matchMedia("(prefers-color-scheme: dark)");
    let chosen = data.theme;  // --theme, or null: follow the system
    const apply = () => {
      const dark = chosen ? chosen === "dark" : system.matches;
      document.documentElement.classList.toggle("dark", dark);
      button.setAttribute("aria-pressed", String(dark));
      button.title = dark ? "switch to the light theme" : "switch to the dark theme";
    };
    system.addEventListener("change", apply);
    button.addEventListener("click", () => {
      chosen = document.documentElement.classList.contains("dark") ? "light" : "dark";
      apply();
    });
    apply();
  }

  themes();
  header();
  search();
  controls();
  fit();
  go(0, false);
  showDetails();

  /* For tests and benchmarks: where the page is, and a way to move it. */
  window.gadPage = {
    get position() { return position; },
    get last() { return DONE; },
    seed: SEED,
    go: (target) => { setPlaying(false); go(target); },
    get camera() { return { ...camera }; },
    get drawing() { return drawings.indexOf(view); },
    number, shown,
  };
}

/* A page in a frame (a notebook's) may be read before the frame has a size, when nothing in it
   can be measured: it starts once it has one. */
(function () {
  "use strict";
  if (window.innerWidth > 0) {
    startPage();
    return;
  }
  const waiting = new ResizeObserver(() => {
    if (window.innerWidth === 0) return;
    waiting.disconnect();
    startPage();
  });
  waiting.observe(document.documentElement);
})();
