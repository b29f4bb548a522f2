/** EIP-712 `encodeType` for a struct without struct-typed members, which is all SCE signs. */
export function encodeType(
  primaryType: string,
  fields: readonly { readonly name: string; readonly type: string }[],
): string {
  return `${primaryType}(${fields.map((f) => `${f.type} ${f.name}`).join(',')})`
}
