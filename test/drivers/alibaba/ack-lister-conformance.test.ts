import { runListerConformance } from "../listertest.js";
import { ackListerHarness } from "./ack-lister-harness.js";

runListerConformance(ackListerHarness);
