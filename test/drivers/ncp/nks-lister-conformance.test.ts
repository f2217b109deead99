import { runListerConformance } from "../listertest.js";
import { nksListerHarness } from "./nks-lister-harness.js";

runListerConformance(nksListerHarness);
