import { runListerConformance } from "../listertest.js";
import { aksListerHarness } from "./aks-lister-harness.js";

// An account of whole subscriptions lists with ARM's list by subscription and looks up by listing;
// one of resource groups lists each group and looks up with a get in each: both pass the contract.
runListerConformance(aksListerHarness("subscription"));
runListerConformance(aksListerHarness("resourceGroup"));
