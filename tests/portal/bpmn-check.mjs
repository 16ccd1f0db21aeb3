// Reads a BPMN 2.0 file with bpmn-moddle, the parser BPMN modellers (bpmn-js) use, as an
// independent check of the XML shared/core generates. Prints {"flowNodes": n, "flows": m,
// "shapes": s, "edges": e} and exits 0 only when it parsed without error and without warnings
// (moddle reports unknown elements, attributes and unresolved references as warnings).
import { readFile } from "node:fs/promises";
import { BpmnModdle } from "bpmn-moddle";

const file = process.argv[2];
if (!file) {
  console.error("usage: node bpmn-check.mjs <file.bpmn>");
  process.exit(2);
}

try {
  const xml = await readFile(file, "utf8");
  const { rootElement, warnings } = await new BpmnModdle().fromXML(xml);
  if (warnings.length > 0) {
    console.error(JSON.stringify(warnings.map((w) => w.message)));
    process.exit(1);
  }
  const processes = rootElement.rootElements.filter((e) => e.$type === "bpmn:Process");
  const elements = processes.flatMap((p) => p.flowElements ?? []);
  const flows = elements.filter((e) => e.$type === "bpmn:SequenceFlow").length;
  const planeElements = (rootElement.diagrams ?? []).flatMap((d) => d.plane.planeElement ?? []);
  console.log(
    JSON.stringify({
      flowNodes: elements.length - flows,
      flows,
      shapes: planeElements.filter((e) => e.$type === "bpmndi:BPMNShape").length,
      edges: planeElements.filter((e) => e.$type === "bpmndi:BPMNEdge").length,
    }),
  );
} catch (e) {
  console.error(String(e?.message ?? e));
  process.exit(1);
}
