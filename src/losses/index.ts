// The losses area: see the folder's files; exports are added as they land.
export {};
