//! Static types: element types, axes (size + optional name), shapes with
//! variadic runs, and how they print (section 3 of the spec).

use std::fmt::{self, Write};
use std::rc::Rc;

use super::size::{AtomId, Size};

/// An axis name: the name of a dim (or of a generic inside a fn body).
pub type Name = Rc<str>;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub enum DType {
    Bool,
    I64,
    F32,
    F64,
}

impl DType {
    pub fn as_str(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I64 => "i64",
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }

    pub fn from_name(name: &str) -> Option<DType> {
        Some(match name {
            "bool" => DType::Bool,
            "i64" => DType::I64,
            "f32" => DType::F32,
            "f64" => DType::F64,
            _ => return None,
        })
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// Bytes per element, for `nbytes` and memory estimates.
    pub fn width(self) -> u64 {
        match self {
            DType::Bool => 1,
            DType::I64 | DType::F64 => 8,
            DType::F32 => 4,
        }
    }

    /// The float type math functions produce for this input.
    pub fn to_float(self) -> DType {
        if self == DType::F64 {
            DType::F64
        } else {
            DType::F32
        }
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct Axis {
    pub size: Size,
    pub name: Option<Name>,
}

impl Axis {
    pub fn anon(size: Size) -> Axis {
        Axis { size, name: None }
    }

    pub fn unit() -> Axis {
        Axis::anon(Size::constant(1))
    }

    pub fn is_one(&self) -> bool {
        self.size.as_const() == Some(1)
    }
}

/// A run of zero or more axes: a `*name` of a signature or a `...`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub struct RunId(pub u32);

#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub enum Item {
    Axis(Axis),
    Run(RunId),
}

impl Item {
    pub fn axis(&self) -> Option<&Axis> {
        match self {
            Item::Axis(axis) => Some(axis),
            Item::Run(_) => None,
        }
    }
}

pub type Shape = Vec<Item>;

/// True when the shape holds no run, so its rank is known.
pub fn is_fixed(shape: &[Item]) -> bool {
    shape.iter().all(|item| matches!(item, Item::Axis(_)))
}

#[derive(Clone, PartialEq, Debug)]
pub struct Tensor {
    pub dtype: DType,
    pub shape: Shape,
    /// Row-major contiguous, as `view` needs (section 5).
    pub contiguous: bool,
    /// A number literal or dim name: takes the other operand's element type.
    pub weak: bool,
}

impl Tensor {
    pub fn new(dtype: DType, shape: Shape) -> Tensor {
        Tensor {
            dtype,
            shape,
            contiguous: true,
            weak: false,
        }
    }

    pub fn scalar(dtype: DType) -> Tensor {
        Tensor::new(dtype, Vec::new())
    }

    pub fn weak_scalar(dtype: DType) -> Tensor {
        Tensor {
            weak: true,
            ..Tensor::scalar(dtype)
        }
    }

    pub fn rank(&self) -> Option<usize> {
        is_fixed(&self.shape).then_some(self.shape.len())
    }

    pub fn axes(&self) -> Option<Vec<&Axis>> {
        self.shape.iter().map(Item::axis).collect()
    }

    pub fn is_scalar(&self) -> bool {
        self.shape.is_empty()
    }
}

#[derive(Clone, PartialEq, Debug)]
pub enum Type {
    /// The type of an expression that already failed: raises nothing further.
    Unknown,
    Tensor(Tensor),
    Tuple(Vec<Type>),
    Str,
    /// The value of `x.shape`.
    ShapeValue(Shape),
    /// `{"a": x}`, only as an argument to `save`.
    Dict,
    /// What statements like `print` return.
    Nothing,
}

impl Type {
    pub fn tensor(dtype: DType, shape: Shape) -> Type {
        Type::Tensor(Tensor::new(dtype, shape))
    }
}

/// How atoms, runs and names print; the checker supplies the names.
pub trait Names {
    fn atom(&self, atom: AtomId) -> String;
    fn run(&self, run: RunId) -> String;
    /// A dim whose size is exactly this compound size, to print its name.
    fn alias(&self, _size: &Size) -> Option<String> {
        None
    }
}

pub fn show_size(size: &Size, names: &dyn Names) -> String {
    let mut out = String::new();
    write_size(&mut out, size, names);
    out
}

// The writers append to one buffer: shapes are printed in every
// diagnostic, and by some rules before they know whether they will fail.
fn write_size(out: &mut String, size: &Size, names: &dyn Names) {
    if let Some(v) = size.as_const() {
        let _ = write!(out, "{v}");
        return;
    }
    if let Some(atom) = size.as_atom() {
        out.push_str(&names.atom(atom));
        return;
    }
    match names.alias(size) {
        Some(name) => out.push_str(&name),
        None => {
            let _ = write!(out, "{}", size.display(&|atom| names.atom(atom)));
        }
    }
}

fn write_axis(out: &mut String, axis: &Axis, names: &dyn Names) {
    match &axis.name {
        Some(name) if axis.size.is_const() => {
            out.push_str(name);
            out.push('=');
            write_size(out, &axis.size, names);
        }
        Some(name) => out.push_str(name),
        None => write_size(out, &axis.size, names),
    }
}

pub fn show_axis(axis: &Axis, names: &dyn Names) -> String {
    let mut out = String::new();
    write_axis(&mut out, axis, names);
    out
}

pub fn show_shape(shape: &[Item], names: &dyn Names) -> String {
    let mut out = String::with_capacity(8 * shape.len() + 2);
    out.push('[');
    for (i, item) in shape.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match item {
            Item::Axis(axis) => write_axis(&mut out, axis, names),
            Item::Run(run) => {
                out.push('*');
                out.push_str(&names.run(*run));
            }
        }
    }
    out.push(']');
    out
}

pub fn show_type(ty: &Type, names: &dyn Names) -> String {
    match ty {
        Type::Unknown => "unknown".into(),
        Type::Tensor(t) => format!("{} {}", show_shape(&t.shape, names), t.dtype.as_str()),
        Type::Tuple(items) => {
            let inner: Vec<String> = items.iter().map(|t| show_type(t, names)).collect();
            format!("({})", inner.join(", "))
        }
        Type::Str => "str".into(),
        Type::ShapeValue(shape) => format!("shape {}", show_shape(shape, names)),
        Type::Dict => "dict".into(),
        Type::Nothing => "nothing".into(),
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
