import { registerEnumType } from "type-graphql";
import { AssociationRole, DeviceType, SmiDeviceStatus } from "../../domain/device";
import { EventType } from "../../domain/events";
import { Fuel } from "../../domain/identifiers";
import { DccServiceFlag, FlagRule } from "../../domain/serviceFlag";

/*
 * The closed sets of the contract. GraphQL shows the enum keys (SCREAMING_SNAKE_CASE); resolvers see
 * the values, which are the DUIS / NDJSON spellings of the domain, so no mapping code is needed.
 */
registerEnumType(Fuel, { name: "Fuel" });
registerEnumType(DccServiceFlag, {
  name: "DccServiceFlag",
  description:
    "MP077 DCC service flag. A null flag is the NULL/blank position: never had a qualifying meter.",
  valuesConfig: {
    A: { description: "Active: a commissioned smart meter is associated" },
    I: { description: "InstalledNotCommissioned (or Whitelisted, by policy)" },
    N: { description: "Non-Active: had a qualifying smart meter, has none now" },
  },
});
registerEnumType(SmiDeviceStatus, { name: "SmiDeviceStatus" });
registerEnumType(DeviceType, { name: "DeviceType" });
registerEnumType(FlagRule, {
  name: "FlagRule",
  description: "The row of the MP077 decision table that holds",
});
registerEnumType(EventType, { name: "EventType" });
registerEnumType(AssociationRole, { name: "AssociationRole" });

export { AssociationRole, DccServiceFlag, DeviceType, EventType, FlagRule, Fuel, SmiDeviceStatus };
