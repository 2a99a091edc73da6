import type { Hl7Field, Hl7Segment } from '@medplum/core';

/**
 * A field's text, '' when the segment is shorter than that (@medplum/core's
 * getField returns undefined past the last field, whatever its type says):
 * a message from outside may stop at any field.
 */
export function fieldText(segment: Hl7Segment | undefined, field: number, component?: number): string {
  const value: Hl7Field | undefined = segment?.getField(field);
  if (value === undefined) return '';
  return component === undefined ? value.toString() : value.getComponent(component);
}
