//! The order process as a BPMN 2.0 document: the process (its flow nodes, sequence flows and
//! timers with their `timeDuration`) and the BPMNDI diagram a modeller draws, laid out by
//! `layout::layout`.

use std::fmt::Write as _;

use super::escape;
use super::layout::layout;
use super::model::{NodeKind, ProcessModel, TaskKind};

const PROCESS_ID: &str = "OrderProcess";

/// The BPMN 2.0 XML of `model`.
pub fn to_bpmn(model: &ProcessModel) -> String {
    let l = layout(model);
    let mut x = String::with_capacity(32 * 1024);
    x.push_str(concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        "\n",
        r#"<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL""#,
        r#" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI""#,
        r#" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC""#,
        r#" xmlns:di="http://www.omg.org/spec/DD/20100524/DI""#,
        r#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#,
        r#" id="Definitions_OrderProcess" targetNamespace="urn:dropship:process">"#,
        "\n",
    ));
    // Writing into a String cannot fail: the results of write! are ignored below.
    let _ = writeln!(
        x,
        r#"  <bpmn:process id="{PROCESS_ID}" name="Order process" isExecutable="false">"#
    );
    for n in &model.nodes {
        let (element, extra) = match &n.kind {
            NodeKind::Start => ("startEvent", String::new()),
            NodeKind::End => ("endEvent", String::new()),
            NodeKind::Task(TaskKind::Service) => ("serviceTask", String::new()),
            NodeKind::Task(TaskKind::User) => ("userTask", String::new()),
            NodeKind::Task(TaskKind::Send) => ("sendTask", String::new()),
            NodeKind::Task(TaskKind::Receive) => ("receiveTask", String::new()),
            NodeKind::Gateway => ("exclusiveGateway", String::new()),
            NodeKind::Timer {
                attached_to: Some(host),
                interrupting,
                ..
            } => (
                "boundaryEvent",
                format!(
                    r#" attachedToRef="{}" cancelActivity="{interrupting}""#,
                    escape(host)
                ),
            ),
            NodeKind::Timer {
                attached_to: None, ..
            } => ("intermediateCatchEvent", String::new()),
        };
        let _ = writeln!(
            x,
            r#"    <bpmn:{element} id="{}" name="{}"{extra}>"#,
            escape(n.id),
            escape(&n.name)
        );
        let _ = writeln!(
            x,
            "      <bpmn:documentation>Runs in: {}</bpmn:documentation>",
            escape(n.runs_in)
        );
        for f in model.flows.iter().filter(|f| f.target == n.id) {
            let _ = writeln!(x, "      <bpmn:incoming>{}</bpmn:incoming>", escape(&f.id));
        }
        for f in model.flows.iter().filter(|f| f.source == n.id) {
            let _ = writeln!(x, "      <bpmn:outgoing>{}</bpmn:outgoing>", escape(&f.id));
        }
        if let NodeKind::Timer { duration, .. } = &n.kind {
            let id = escape(n.id);
            let _ = writeln!(
                x,
                concat!(
                    r#"      <bpmn:timerEventDefinition id="{id}_definition">"#,
                    r#"<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{duration}</bpmn:timeDuration>"#,
                    "</bpmn:timerEventDefinition>"
                ),
                id = id,
                duration = escape(duration)
            );
        }
        let _ = writeln!(x, "    </bpmn:{element}>");
    }
    for f in &model.flows {
        let name = f
            .name
            .map(|n| format!(r#" name="{}""#, escape(n)))
            .unwrap_or_default();
        let _ = writeln!(
            x,
            r#"    <bpmn:sequenceFlow id="{}" sourceRef="{}" targetRef="{}"{name} />"#,
            escape(&f.id),
            escape(f.source),
            escape(f.target)
        );
    }
    x.push_str("  </bpmn:process>\n");
    let _ = writeln!(x, r#"  <bpmndi:BPMNDiagram id="{PROCESS_ID}_diagram">"#);
    let _ = writeln!(
        x,
        r#"    <bpmndi:BPMNPlane id="{PROCESS_ID}_plane" bpmnElement="{PROCESS_ID}">"#
    );
    for n in &model.nodes {
        let Some(b) = l.shapes.get(n.id) else {
            continue;
        };
        let id = escape(n.id);
        let marker = if matches!(n.kind, NodeKind::Gateway) {
            r#" isMarkerVisible="true""#
        } else {
            ""
        };
        let _ = writeln!(
            x,
            r#"      <bpmndi:BPMNShape id="{id}_di" bpmnElement="{id}"{marker}><dc:Bounds x="{}" y="{}" width="{}" height="{}" /></bpmndi:BPMNShape>"#,
            b.x, b.y, b.width, b.height
        );
    }
    for (f, points) in model.flows.iter().zip(&l.edges) {
        let id = escape(&f.id);
        let _ = write!(
            x,
            r#"      <bpmndi:BPMNEdge id="{id}_di" bpmnElement="{id}">"#
        );
        for (px, py) in points {
            let _ = write!(x, r#"<di:waypoint x="{px}" y="{py}" />"#);
        }
        x.push_str("</bpmndi:BPMNEdge>\n");
    }
    x.push_str("    </bpmndi:BPMNPlane>\n  </bpmndi:BPMNDiagram>\n</bpmn:definitions>\n");
    x
}
